using Modal.Api.Authentication;

namespace Modal.Platform.Tests.Unit;

public sealed class TokenCredentialsTests
{
    [Fact]
    public void Generate_TwoTokens_AreDistinctAndPrefixed()
    {
        var first = TokenCredentials.Generate();
        var second = TokenCredentials.Generate();

        Assert.NotEqual(first, second);
        Assert.StartsWith("ak-", first.Id, StringComparison.Ordinal);
        Assert.StartsWith("as-", first.Secret, StringComparison.Ordinal);
    }

    [Fact]
    public void SecretMatches_OnlyTheSameSecret()
    {
        var (_, secret) = TokenCredentials.Generate();
        var hash = TokenCredentials.HashSecret(secret);

        Assert.True(TokenCredentials.SecretMatches(secret, hash));
        Assert.False(TokenCredentials.SecretMatches(secret + "x", hash));
    }

    [Theory]
    [InlineData("Bearer ak-1:as-2", null, null, "ak-1", "as-2")]
    [InlineData("bearer ak-1:as-2:with-colon", null, null, "ak-1", "as-2:with-colon")]
    [InlineData(null, "ak-9", "as-8", "ak-9", "as-8")]
    public void Parse_WellFormed_ReturnsPair(string? authorization, string? id, string? secret, string expectedId, string expectedSecret)
    {
        Assert.Equal((expectedId, expectedSecret), TokenCredentials.Parse(authorization, id, secret));
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData("Basic YTpi", null, null)]
    [InlineData("Bearer ak-1", null, null)]
    [InlineData("Bearer x-1:as-2", null, null)]
    [InlineData(null, "ak-1", null)]
    [InlineData(null, "ak-1", "secret-without-prefix")]
    public void Parse_MissingOrMalformed_ReturnsNull(string? authorization, string? id, string? secret)
    {
        Assert.Null(TokenCredentials.Parse(authorization, id, secret));
    }
}
