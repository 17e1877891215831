using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
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

    /// <summary>The host's environment: <c>Testing</c> unless a test needs how a service answers in another (e.g. Production).</summary>
    public string Environment { get; init; } = "Testing";

    /// <summary>Replaces services after the service registered its own (e.g. an HTTP handler into another test server).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    private readonly ReceiveEndpointWatch _endpoints = new();
    /// <summary>The service's AppHost resource name, from its assembly: Modal.GpuRunner → gpu-runner.</summary>
    private static string ServiceName => InfrastructureFixture.ResourceName(typeof(TEntryPoint).Assembly.GetName().Name!["Modal.".Length..]);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.ConfigureTestServices(services => services.AddReceiveEndpointObserver(_ => _endpoints));
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

    /// <summary>The host once started (null until a test first uses the service).</summary>
    private IHost? _host;

    protected override IHost CreateHost(IHostBuilder builder)
    {
        var host = base.CreateHost(builder);
        _host = host;
        return host;
    }

    /// <summary>
    /// Stops the service's bus, then its host, then disposes it; fails when a receive endpoint is still consuming
    /// afterwards. A bus that outlived its host kept consuming the shared durable queues (<c>api-call-results</c>) with a
    /// disposed service provider, faulting what it took into <c>_error</c> (<see cref="ObjectDisposedException"/>), so a
    /// later test's results never arrived and it hung. It happened to a host disposed while its bus was still starting
    /// (a quick test, e.g. a 401): MassTransit's stop returns at once for a bus whose start has not finished, and the bus
    /// then finishes starting with nothing left to stop it. So the bus is given the time to start (its health turns
    /// healthy) and stopped here, by the test, while its service provider is alive (the service's own
    /// <c>app.RunAsync()</c> stops and disposes the host concurrently with the factory's stop).
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        if (_host is { } host)
        {
            using var timeout = new CancellationTokenSource(StopTimeout);
            try
            {
                foreach (var bus in host.Services.GetServices<IBusControl>())
                {
                    // Not Healthy for good when the broker is down (outage tests) or an endpoint cannot start: stop anyway.
                    for (var waited = TimeSpan.Zero; bus.CheckHealth().Status != BusHealthStatus.Healthy && waited < StartWait; waited += StartPoll)
                    {
                        await Task.Delay(StartPoll, timeout.Token);
                    }
                    await bus.StopAsync(timeout.Token);
                }
            }
            catch (OperationCanceledException e) when (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"{ServiceName}'s bus did not stop within {StopTimeout.TotalSeconds:0} s.", e);
            }
        }
        await base.DisposeAsync();
        if (_endpoints.Consuming.Count > 0)
        {
            throw new InvalidOperationException(
                $"{ServiceName}'s host was disposed with its bus still consuming {string.Join(", ", _endpoints.Consuming)}.");
        }
    }

    private static readonly TimeSpan StartWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StartPoll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
}
