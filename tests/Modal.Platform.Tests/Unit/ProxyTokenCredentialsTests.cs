using Modal.Api.Authentication;

namespace Modal.Platform.Tests.Unit;

public sealed class ProxyTokenCredentialsTests
{
    [Fact]
    public void Generate_Twice_GivesWellFormedDistinctPairs()
    {
        var (id, secret) = ProxyTokenCredentials.Generate();
        var (otherId, otherSecret) = ProxyTokenCredentials.Generate();

        Assert.True(ProxyTokenCredentials.IsWellFormedId(id));
        Assert.True(ProxyTokenCredentials.IsWellFormedSecret(secret));
        Assert.NotEqual(id, otherId);
        Assert.NotEqual(secret, otherSecret);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("wk-")]
    [InlineData("ws-0123456789abcdef0123456789abcdef")]
    [InlineData("wk-0123456789ABCDEF0123456789ABCDEF")]
    [InlineData("wk-0123456789abcdef0123456789abcde")]
    [InlineData("wk-0123456789abcdef0123456789abcdef0")]
    [InlineData("wk-0123456789abcdef0123456789abcdeg")]
    public void IsWellFormedId_NotWkAnd32LowerHex_False(string? id) =>
        Assert.False(ProxyTokenCredentials.IsWellFormedId(id));
}
