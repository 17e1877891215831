using Modal.Api.Contracts.Gpus;

namespace Modal.Platform.Tests.Unit;

public sealed class GpuRequestTests
{
    [Theory]
    [InlineData("H100", "H100", 1, false)]
    [InlineData("a100-80gb:2", "A100-80GB", 2, false)]
    [InlineData("A100", "A100", 1, false)]
    [InlineData("a100:4", "A100", 4, false)]
    [InlineData("A10", "A10G", 1, false)]
    [InlineData("h100!", "H100", 1, true)]
    [InlineData("H100!:8", "H100", 8, true)]
    [InlineData(" l4 : 2 ", "L4", 2, false)]
    [InlineData("any", "any", 1, false)]
    [InlineData("ANY:8", "any", 8, false)]
    public void TryParse_ValidSpec_GivesTypeCountAndPin(string spec, string type, int count, bool pinned)
    {
        Assert.True(GpuRequest.TryParse(spec, out var request, out _));
        Assert.Equal(new GpuRequest(type, count, pinned), request);
    }

    [Theory]
    [InlineData("H100:9", "1 to 8")]
    [InlineData("H100:0", "1 to 8")]
    [InlineData("H100:-1", "1 to 8")]
    [InlineData("H100:two", "1 to 8")]
    [InlineData("V100", "'V100' is unknown")]
    [InlineData("", "TYPE, TYPE! or TYPE:COUNT")]
    [InlineData("!", "TYPE, TYPE! or TYPE:COUNT")]
    [InlineData("H1!00", "TYPE, TYPE! or TYPE:COUNT")]
    [InlineData("H100:2:3", "TYPE, TYPE! or TYPE:COUNT")]
    [InlineData("any!", "pins nothing")]
    public void TryParse_InvalidSpec_SaysWhatIsWrong(string spec, string reason)
    {
        Assert.False(GpuRequest.TryParse(spec, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("A100", "A100-40GB", 0)]
    [InlineData("A100", "A100-80GB", 0)]
    [InlineData("a100", "a100-80gb", 0)]
    [InlineData("A100-40GB", "A100-40GB", 0)]
    [InlineData("A100-40GB", "A100-80GB", null)]
    [InlineData("A100-80GB", "A100-40GB", null)]
    [InlineData("A100", "H100", null)]
    [InlineData("H100", "H100", 0)]
    [InlineData("H100", "H200", 1)]
    [InlineData("h100", "h200", 1)]
    [InlineData("H100!", "H200", null)]
    [InlineData("H100!", "H100", 0)]
    [InlineData("H200", "H100", null)]
    [InlineData("T4", "L4", null)]
    [InlineData("any", "B200", 0)]
    public void Rank_SaysWhichTypesServeTheRequest_AndWhichOnlyAsAnUpgrade(string spec, string gpuType, int? rank)
    {
        var request = GpuRequest.Parse(spec);

        Assert.Equal(rank, request.Rank(gpuType));
        Assert.Equal(rank is not null, request.Accepts(gpuType));
    }

    [Fact]
    public void TryParseAll_GpuAndFallbacks_InOrder_OrEveryProblem()
    {
        var parsed = GpuRequest.TryParseAll("h100!", ["A100:2", "any"], out var none);
        var refused = GpuRequest.TryParseAll("V100", ["H100", "T4:9"], out var errors);

        Assert.Equal([new GpuRequest("H100", 1, true), new GpuRequest("A100", 2), new GpuRequest("any", 1)], parsed);
        Assert.Empty(none);
        Assert.Null(refused);
        Assert.Equal(2, errors.Count);
        Assert.Empty(GpuRequest.TryParseAll(null, null, out _)!);
    }

    [Fact]
    public void ToString_And_Describe_SpellTheRequestCanonically()
    {
        Assert.Equal("H100!:2", GpuRequest.Parse("h100!:2").ToString());
        Assert.Equal("A100, then L4", GpuRequest.Describe([GpuRequest.Parse("a100"), GpuRequest.Parse("l4:1")]));
    }
}
