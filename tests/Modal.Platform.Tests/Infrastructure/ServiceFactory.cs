using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Runs one platform service in-process against the real infrastructure (connection strings come from the
/// <see cref="InfrastructureFixture"/>); <paramref name="settings"/> overrides the service's own configuration.
/// </summary>
public sealed class ServiceFactory<TEntryPoint>(params (string Key, string Value)[] settings) : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{

    /// <summary>The host's environment: <c>Testing</c> unless a test needs how a service answers in another (e.g. Production).</summary>
    public string Environment { get; init; } = "Testing";

    /// <summary>Replaces services after the service registered its own (e.g. an HTTP handler into another test server).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        if (ConfigureServices is { } configure)
        {
            builder.ConfigureTestServices(configure);
        }
        builder.UseEnvironment(Environment);
        // As strict as Development (where Aspire runs the services): a scoped service captured by a singleton fails here too.
        builder.UseDefaultServiceProvider(provider =>
        {
            provider.ValidateScopes = true;
            provider.ValidateOnBuild = true;
        });
        builder.UseSetting("Logging:LogLevel:Default", "Error");
        // Outage tests make the services log every reconnect attempt with a stack trace; only errors are
        // worth a reader's time in test output (the assertions carry the health reports).
        builder.ConfigureLogging(logging => logging
            .SetMinimumLevel(LogLevel.Error)
            .AddFilter("MassTransit", LogLevel.Critical)
            .AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.Critical)
            .AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Critical));
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
