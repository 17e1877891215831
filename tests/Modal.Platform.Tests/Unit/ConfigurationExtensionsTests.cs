using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Modal.Platform.Tests.Unit;

public sealed class ConfigurationExtensionsTests
{
    [Fact]
    public void GetRequiredConnectionString_Missing_ThrowsNamingSettingAndEnvironmentVariable()
    {
        var configuration = new ConfigurationBuilder().Build();

        var error = Assert.Throws<InvalidOperationException>(() => configuration.GetRequiredConnectionString("rabbitmq"));

        Assert.Contains("ConnectionStrings:rabbitmq", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__rabbitmq", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetRequiredConnectionString_Present_ReturnsIt()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new("ConnectionStrings:rabbitmq", "amqp://127.0.0.1:5672/")])
            .Build();

        Assert.Equal("amqp://127.0.0.1:5672/", configuration.GetRequiredConnectionString("rabbitmq"));
    }
}
