using Modal.Contracts.Runners;

namespace Modal.Platform.Tests.Unit;

public sealed class GpuRequestTests
{
    [Theory]
    [InlineData("H100", "H100", 1)]
    [InlineData("a100-80gb:2", "A100-80GB", 2)]
    [InlineData("A100", "A100-40GB", 1)]
    [InlineData("any", "any", 1)]
    [InlineData("ANY:8", "any", 8)]
    public void TryParse_ValidSpec_GivesTypeAndCount(string spec, string type, int count)
    {
        Assert.True(GpuRequest.TryParse(spec, out var request, out _));
        Assert.Equal(new GpuRequest(type, count), request);
    }

    [Theory]
    [InlineData("H100:9", "1 to 8")]
    [InlineData("H100:0", "1 to 8")]
    [InlineData("V100", "unknown")]
    [InlineData("", "TYPE or TYPE:COUNT")]
    [InlineData("H100:2:3", "TYPE or TYPE:COUNT")]
    public void TryParse_InvalidSpec_SaysWhatIsWrong(string spec, string reason)
    {
        Assert.False(GpuRequest.TryParse(spec, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }
}
