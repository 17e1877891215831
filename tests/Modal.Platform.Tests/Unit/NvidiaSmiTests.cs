using Modal.GpuRunner.Domain;

namespace Modal.Platform.Tests.Unit;

public sealed class NvidiaSmiTests
{
    [Fact]
    public void Parse_RealH200Output_OneGpuWithItsUuidAndMemory()
    {
        // Printed by nvidia-smi on a real H200 node (docs/device-check-h200.txt).
        var gpus = NvidiaSmi.Parse("0, NVIDIA H200, GPU-d123c540-3d02-b0d8-c638-e90011910307, 143771\n");

        var gpu = Assert.Single(gpus);
        Assert.Equal(0, gpu.Index);
        Assert.Equal("H200", gpu.Type);
        Assert.Equal("GPU-d123c540-3d02-b0d8-c638-e90011910307", gpu.Uuid);
        Assert.Equal(143771, gpu.MemoryMiB);
        Assert.False(gpu.Simulated);
    }

    [Theory]
    [InlineData("NVIDIA H100 80GB HBM3", 81559, "H100")]
    [InlineData("NVIDIA A100-SXM4-80GB", 81920, "A100-80GB")]
    [InlineData("NVIDIA A100-SXM4-40GB", 40960, "A100-40GB")]
    [InlineData("NVIDIA A100-PCIE-40GB", 40960, "A100-40GB")]
    [InlineData("Tesla T4", 15360, "T4")]
    [InlineData("NVIDIA L4", 23034, "L4")]
    [InlineData("NVIDIA L40S", 46068, "L40S")]
    [InlineData("NVIDIA A10G", 23028, "A10G")]
    [InlineData("NVIDIA B200", 183359, "B200")]
    [InlineData("NVIDIA GeForce RTX 4090", 24564, "NVIDIA GeForce RTX 4090")]
    public void TypeOf_ProductNames_MapToThePlatformsTypes(string product, long memoryMiB, string expected) =>
        Assert.Equal(expected, NvidiaSmi.TypeOf(product, memoryMiB));

    [Fact]
    public void Parse_SeveralGpus_KeepsTheirIndexes()
    {
        var gpus = NvidiaSmi.Parse("0, Tesla T4, GPU-a, 15360\n1, NVIDIA A100-SXM4-80GB, GPU-b, 81920\n");

        Assert.Equal([(0, "T4"), (1, "A100-80GB")], gpus.Select(g => (g.Index, g.Type)));
    }

    [Fact]
    public void Parse_ALineNotInTheQuerysForm_FailsQuotingIt()
    {
        var error = Assert.Throws<FormatException>(() => NvidiaSmi.Parse("No devices were found\n"));

        Assert.Contains("No devices were found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Discover_NoNvidiaSmiOnThisNode_IsNull() =>
        Assert.Null(NvidiaSmi.Discover("nvidia-smi-that-is-not-installed"));
}
