using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Modal.Api.Contracts.Web;
using Modal.Container.Protocol;

namespace Modal.Container;

/// <summary>
/// The web side of a container of an ASP.NET Core app or a server (<c>MODAL_WEB_FUNCTION</c> names its function):
/// started before the function socket exists, so the runner's start-up wait covers it, and stopped when the runner
/// hangs up, before the [Exit] hooks run.
/// </summary>
internal sealed class ContainerWebServer : IAsyncDisposable
{
    // The runner kills a container 5 s after it hangs up: requests in flight get most of that, then are aborted.
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(3);

    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _failed = new();
    private WebApplication? _app;
    private string? _socketPath;
    private Task? _server;
    private bool _disposed;

    private ContainerWebServer()
    {
    }

    /// <summary>Cancelled when the server stopped on its own (its start threw): the container should stop too.</summary>
    public CancellationToken Failed => _failed.Token;

    /// <summary>
    /// Starts what <c>MODAL_WEB_FUNCTION</c> names: builds and starts the ASP.NET Core app on the web socket, or starts the
    /// server (its start delegate, or its class's [Enter] hooks). Null when the container serves no web function.
    /// </summary>
    public static async Task<ContainerWebServer?> StartAsync(App app, CancellationToken cancellationToken)
    {
        if (Environment.GetEnvironmentVariable(ContainerProtocol.WebFunctionVariable) is not { Length: > 0 } name)
        {
            return null;
        }
        var function = app.Functions.FirstOrDefault(f => f.Name == name)
            ?? throw new InvalidOperationException($"App '{app.Name}' has no function named '{name}' to serve over HTTP.");
        var serving = function.Serving
            ?? throw new InvalidOperationException($"Function '{name}' of app '{app.Name}' is not an ASP.NET Core app or a web server.");

        var server = new ContainerWebServer();
        if (function.Class is { } owner)
        {
            // A server class: its [Enter] hooks start the server (once per container; a no-op if MODAL_CLASS entered it).
            await owner.EnterAsync().ConfigureAwait(false);
        }
        if (serving.Kind == WebEndpointKinds.AspNetApp)
        {
            var socketPath = Environment.GetEnvironmentVariable(ContainerProtocol.WebSocketVariable) is { Length: > 0 } path
                ? path
                : ContainerProtocol.WebSocketPathInContainer;
            await server.StartAppAsync(serving.Build!, socketPath, cancellationToken).ConfigureAwait(false);
        }
        else if (serving.Start is { } start)
        {
            server.StartServer(name, start);
        }
        return server;
    }

    private async Task StartAppAsync(Func<WebApplicationBuilder, WebApplication> build, string socketPath, CancellationToken cancellationToken)
    {
        // CreateBuilder rather than CreateSlimBuilder: users expect everything a template app has (full routing with
        // regex constraints, appsettings.json, logging); its start costs a few milliseconds more, once per container.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        // The templates' appsettings.json default, as the lowest-priority source (the app's own settings win): a log
        // line per request would cost every request time and fill the container's log.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?> { ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning" },
        });
        Directory.CreateDirectory(Path.GetDirectoryName(socketPath)!);
        // A socket file left by an earlier container (the folder is the runner's) would make the bind fail.
        File.Delete(socketPath);
        // Only the Unix socket: the container's network is not how it is reached, and ASPNETCORE_URLS must not open a port.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(socketPath));
        // The runner's connection, not SIGTERM, is the container's lifetime: no console lifetime that would keep the
        // process up after a signal or stop the app while the function socket still serves.
        builder.Services.AddSingleton<IHostLifetime, RunnerConnectionLifetime>();

        var app = build(builder)
            ?? throw new InvalidOperationException("The AspNetApp build delegate returned null: return builder.Build() after mapping the routes.");
        _app = app;
        _socketPath = socketPath;
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        // The runner's forwarder connects as another user than the container's; the folder is private to this container.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(socketPath,
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
        }
    }

    private void StartServer(string name, Func<CancellationToken, Task> start)
    {
        // Not awaited: a start may run the server for the container's lifetime. Only its failure matters here.
        _server = Task.Run(async () =>
        {
            try
            {
                await start(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                // Stopped with the container.
            }
            catch (Exception e)
            {
                await Console.Error.WriteLineAsync($"Server '{name}' failed: {e}").ConfigureAwait(false);
                await _failed.CancelAsync().ConfigureAwait(false);
                throw;
            }
        });
    }

    /// <summary>Whether the server stopped on its own because it failed.</summary>
    public bool HasFailed => _failed.IsCancellationRequested;

    /// <summary>Stops the app gracefully (requests in flight get a short grace) or tells the server to stop.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_app is { } app)
        {
            using var grace = new CancellationTokenSource(StopGrace);
            await app.StopAsync(grace.Token).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            File.Delete(_socketPath!);
        }
        if (_server is { } server)
        {
            await server.WaitAsync(StopGrace).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
        _stopping.Dispose();
        _failed.Dispose();
    }

    /// <summary>The host's lifetime is the container's: nothing to wait for at start, no signal handling.</summary>
    private sealed class RunnerConnectionLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
