using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.GpuRunner.Platform;

/// <summary>
/// The platform socket: the only way from a container to the platform. A Unix domain socket in a folder of its own under
/// the runtime folder, bound into every container (<see cref="Containers.BubblewrapLauncher.PlatformPath"/>), on which a
/// server of its own (not the runner's: nothing of the runner's endpoints answers here, and the forwarder answers nowhere
/// else) forwards each HTTP request to the Api or to Storage by its authority (<see cref="PlatformRoutes"/>), streaming
/// bodies both ways and adding nothing: the container's own token is its only credential. Any other authority is refused
/// with 421 problem details. Any uid may connect (the container runs as a uid of its own): what a request may do is the
/// token's to decide. Disabled when the runner gives containers no platform access (no <c>GpuRunner:ApiUrl</c>).
/// </summary>
public sealed partial class PlatformSocket(IOptions<GpuRunnerOptions> options, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    /// <summary>The socket's file name, in <see cref="Folder"/>.</summary>
    public const string FileName = "platform.sock";

    /// <summary>Connectable by every uid; authentication is by token.</summary>
    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead
        | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly ILogger _logger = loggers.CreateLogger<PlatformSocket>();
    private WebApplication? _server;

    /// <summary>
    /// The socket's folder: one per runner process (several runners may share a runtime folder, as tests do), short enough
    /// for a socket path (~100 bytes).
    /// </summary>
    public string Folder { get; } = Path.Combine(options.Value.RuntimeDirectory, $"platform-{Guid.NewGuid():N}"[..21]);

    /// <summary>The socket's path on the node.</summary>
    public string SocketPath => Path.Join(Folder, FileName);

    /// <summary>Whether containers get the socket: the runner knows the Api's address.</summary>
    public bool Enabled => options.Value.ApiUrl is not null;

    /// <summary>
    /// Listens before the bus starts (it is registered before it): no container can start before the socket is there.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.ApiUrl is not { } api)
        {
            return;
        }
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The platform socket (a Unix domain socket bound into containers) needs Linux.");
        }
        var routes = new PlatformRoutes(api, options.Value.StoragePublicUrl);
        Directory.CreateDirectory(Folder, FolderMode);
        File.SetUnixFileMode(Folder, FolderMode); // The process umask may have taken bits off.

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.ListenUnixSocket(SocketPath);
            // Volume files and blobs stream through; the Api and Storage enforce their own limits.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.AddServerHeader = false;
        });
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddHttpForwarder();
        var server = builder.Build();
        var forwarder = server.Services.GetRequiredService<IHttpForwarder>();
        var client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        });
        // Long polls (Queue gets, call results) wait up to a minute on the server.
        var config = new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromMinutes(5) };
        server.Run(context => ForwardAsync(context, routes, forwarder, client, config));
        await server.StartAsync(cancellationToken);
        File.SetUnixFileMode(SocketPath, SocketMode);
        _server = server;
        LogListening(_logger, Folder, routes.Description);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            await server.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is { } server)
        {
            await server.DisposeAsync();
            _server = null;
        }
        if (Directory.Exists(Folder))
        {
            Directory.Delete(Folder, recursive: true);
        }
    }

    private async Task ForwardAsync(
        HttpContext context, PlatformRoutes routes, IHttpForwarder forwarder, HttpMessageInvoker client, ForwarderRequestConfig config)
    {
        if (routes.DestinationFor(context.Request.Host) is not { } destination)
        {
            // 421, not 403: the request was not looked at, only its address; a client may try another way (the SDK
            // falls back to the Api when Storage's address is not forwarded).
            await TypedResults.Problem(statusCode: StatusCodes.Status421MisdirectedRequest, title: "Not a platform address",
                detail: $"The platform socket forwards only to the Api and Storage ({routes.Description}), not to '{context.Request.Host}'. " +
                    "Other addresses are reached over the container's own network, if it has one.").ExecuteAsync(context);
            return;
        }
        var error = await forwarder.SendAsync(context, destination.ToString(), client, config, HttpTransformer.Empty);
        if (error != ForwarderError.None && context.Features.Get<IForwarderErrorFeature>()?.Exception is { } exception)
        {
            LogForwardFailed(_logger, context.Request.Host.Value ?? "", error, exception.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Platform socket in {Folder} forwards to {Routes}")]
    private static partial void LogListening(ILogger logger, string folder, string routes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Platform socket: forwarding to {Host} failed ({Error}): {Reason}")]
    private static partial void LogForwardFailed(ILogger logger, string host, ForwarderError error, string reason);
}
