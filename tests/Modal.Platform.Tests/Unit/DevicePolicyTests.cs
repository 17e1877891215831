using Modal.Torch;

namespace Modal.Platform.Tests.Unit;

public sealed class DevicePolicyTests
{
    private static readonly DeviceFacts GpuContainer = new()
    {
        InContainer = true, VisibleDevices = "1", ExpectedLibtorchVersion = "2.10.0.0",
    };

    private static readonly DeviceFacts Local = new() { InContainer = false, VisibleDevices = null, ExpectedLibtorchVersion = "2.10.0.0" };

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("void")]
    public void Decide_ContainerWithoutGpus_Cpu(string visible)
    {
        var decision = DevicePolicy.Decide(GpuContainer with { VisibleDevices = visible, DriverProblem = "no libcuda" });

        Assert.Equal(DeviceVerdict.Cpu, decision.Verdict);
    }

    [Fact]
    public void Decide_GpuContainerWithNothingKnownWrong_ProbesCudaBeforeDeciding()
    {
        Assert.Equal(DeviceVerdict.ProbeCuda, DevicePolicy.Decide(GpuContainer).Verdict);
    }

    [Fact]
    public void Decide_GpuContainerCudaAvailable_CudaNamingTheGpus()
    {
        var decision = DevicePolicy.Decide(GpuContainer with { CudaAvailable = true, CudaDeviceCount = 1 });

        Assert.Equal(DeviceVerdict.Cuda, decision.Verdict);
        Assert.Contains("GPU(s) 1", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_SimulatedGpus_FailsSayingSo()
    {
        var decision = DevicePolicy.Decide(GpuContainer with { SimulatedGpus = true });

        Assert.Equal(DeviceVerdict.Fail, decision.Verdict);
        Assert.Contains("simulated", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_NoDriver_FailsNamingTheDriver()
    {
        var decision = DevicePolicy.Decide(GpuContainer with { DriverProblem = "libcuda.so.1 does not load" });

        Assert.Equal(DeviceVerdict.Fail, decision.Verdict);
        Assert.Contains("no NVIDIA driver: libcuda.so.1 does not load", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_NodeLibtorchOfAnotherVersion_FailsNamingBothVersions()
    {
        var decision = DevicePolicy.Decide(GpuContainer with { NodeLibtorch = "/run/modal-gpu/libtorch", NodeLibtorchVersion = "2.5.1+cu124" });

        Assert.Equal(DeviceVerdict.Fail, decision.Verdict);
        Assert.Contains("version mismatch", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("libtorch 2.10.x", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("2.5.1+cu124", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_NodeLibtorchOfTheSameMinorVersion_GoesOnToProbe()
    {
        var decision = DevicePolicy.Decide(GpuContainer with { NodeLibtorch = "/run/modal-gpu/libtorch", NodeLibtorchVersion = "2.10.1+cu128" });

        Assert.Equal(DeviceVerdict.ProbeCuda, decision.Verdict);
    }

    [Fact]
    public void Decide_NoCudaLibtorchAnywhere_FailsSayingTheNodeOffersNone()
    {
        var decision = DevicePolicy.Decide(GpuContainer with { CudaLibtorchProblem = "libtorch_cuda.so: cannot open shared object file" });

        Assert.Equal(DeviceVerdict.Fail, decision.Verdict);
        Assert.Contains("no CUDA libtorch", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("GpuRunner:CudaLibtorchDirectory", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_TorchSeesNoDevice_Fails()
    {
        var decision = DevicePolicy.Decide(GpuContainer with { CudaAvailable = false });

        Assert.Equal(DeviceVerdict.Fail, decision.Verdict);
        Assert.Contains("sees no CUDA device", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decide_LocalRunWithoutDriver_CpuNotAFailure()
    {
        var decision = DevicePolicy.Decide(Local with { DriverProblem = "libcuda.so.1 does not load" });

        Assert.Equal(DeviceVerdict.Cpu, decision.Verdict);
    }

    [Fact]
    public void Decide_LocalRunWithCuda_Cuda()
    {
        Assert.Equal(DeviceVerdict.ProbeCuda, DevicePolicy.Decide(Local).Verdict);
        Assert.Equal(DeviceVerdict.Cuda, DevicePolicy.Decide(Local with { CudaAvailable = true, CudaDeviceCount = 2 }).Verdict);
    }

    [Theory]
    [InlineData("2.10.0+cu128", "2.10")]
    [InlineData("2.10.0.0", "2.10")]
    [InlineData("2", "2")]
    public void MajorMinor_Versions(string version, string expected)
    {
        Assert.Equal(expected, DevicePolicy.MajorMinor(version));
    }
}
