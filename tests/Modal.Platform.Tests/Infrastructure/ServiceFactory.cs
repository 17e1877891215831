using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Runs one platform service in-process against the real infrastructure, connecting as that service's own users
/// (<see cref="InfrastructureFixture.ConnectionStringsFor"/>); <paramref name="settings"/> overrides the service's own
/// configuration, those connection strings included.
/// </summary>
public sealed class ServiceFactory<TEntryPoint>(params (string Key, string Value)[] settings) : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{

    /// <summary>Replaces services after the service registered its own (e.g. an HTTP handler into another test server).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>The service's AppHost resource name, from its assembly: Modal.GpuRunner → gpu-runner.</summary>
    private static string ServiceName => InfrastructureFixture.ResourceName(typeof(TEntryPoint).Assembly.GetName().Name!["Modal.".Length..]);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        if (ConfigureServices is { } configure)
        {
            builder.ConfigureTestServices(configure);
        }
        builder.UseEnvironment("Testing");
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
        if (InfrastructureFixture.Current is { } infrastructure)
        {
            foreach (var (key, value) in infrastructure.ConnectionStringsFor(ServiceName))
            {
                builder.UseSetting(key, value);
            }
        }
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
