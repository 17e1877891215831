using Modal.Storage.Infrastructure;

namespace Modal.Platform.Tests.Unit;

public sealed class S3ConnectionSettingsTests
{
    [Fact]
    public void Parse_FullConnectionString_ReadsEveryPart()
    {
        var settings = S3ConnectionSettings.Parse("Endpoint=https://s3.example.test:9000;AccessKey=a:b;SecretKey=s3cr=t;Region=eu-west-1");

        Assert.Equal(new Uri("https://s3.example.test:9000"), settings.Endpoint);
        Assert.Equal("a:b", settings.AccessKey);
        Assert.Equal("s3cr=t", settings.SecretKey);
        Assert.Equal("eu-west-1", settings.Region);
    }

    [Fact]
    public void Parse_NoRegion_DefaultsToUsEast1()
    {
        var settings = S3ConnectionSettings.Parse("Endpoint=http://127.0.0.1:8089;AccessKey=k;SecretKey=s");

        Assert.Equal("us-east-1", settings.Region);
    }

    [Theory]
    [InlineData("Endpoint=http://127.0.0.1:8089;SecretKey=s", "AccessKey")]
    [InlineData("Endpoint=http://127.0.0.1:8089;AccessKey=k", "SecretKey")]
    [InlineData("AccessKey=k;SecretKey=s", "Endpoint")]
    public void Parse_MissingPart_ThrowsNamingThePart(string connectionString, string missing)
    {
        var error = Assert.Throws<InvalidOperationException>(() => S3ConnectionSettings.Parse(connectionString));

        Assert.Contains($"'{missing}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:s3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NonHttpEndpoint_Throws()
    {
        var error = Assert.Throws<InvalidOperationException>(() => S3ConnectionSettings.Parse("Endpoint=ftp://x;AccessKey=k;SecretKey=s"));

        Assert.Contains("http(s)", error.Message, StringComparison.Ordinal);
    }
}
