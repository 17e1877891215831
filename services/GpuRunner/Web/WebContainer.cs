using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Modal.GpuRunner.Containers;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.GpuRunner.Web;

/// <summary>
/// How the runner's web forwarder reaches one server container: an ASP.NET Core app on the Unix socket in its web folder,
/// or a server on its port inside the container's own network namespace (a socket made by a thread that entered it,
/// never through the node's loopback). Holds the container's HTTP client (a connection pool of its own, whose connect
/// goes to the container) and, for a port, the namespace dialer; disposed when the container goes.
/// </summary>
public sealed class WebContainer : IDisposable
{
    private readonly string? _socketPath;
    private readonly int _port;
    private readonly Func<string?>? _namespacePath;
    private readonly Lock _gate = new();
    private Task<NamespaceDialer>? _dialer;
    private volatile bool _disposed;

    private WebContainer(string containerId, string? socketPath, int port, Func<string?>? namespacePath, TimeSpan requestTimeout, int maxConcurrentRequests)
    {
        ContainerId = containerId;
        _socketPath = socketPath;
        _port = port;
        _namespacePath = namespacePath;
        MaxConcurrentRequests = maxConcurrentRequests;
        Description = socketPath is not null ? $"its web socket {socketPath}"
            : namespacePath is not null ? $"port {port} inside its network namespace"
            : $"port {port} on the node's loopback (the container is not isolated)";
        // As YARP recommends for a forwarder's client: no proxy, redirects, decompression or cookies of its own.
        Client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(15),
            // Web traffic is not traced (decision 28): no outgoing-request activity or trace headers of the runner's.
            ActivityHeadersPropagator = null,
            ConnectCallback = async (_, cancellationToken) => await ConnectAsync(cancellationToken),
        });
        RequestConfig = new ForwarderRequestConfig
        {
            // A request may be quiet (a long computation, an idle stream) for as long as the function may run.
            ActivityTimeout = requestTimeout,
            // HTTP/1.1 to the container: plain-text HTTP/2 needs prior knowledge the app may not have, and WebSockets
            // from HTTP/2 clients are turned into HTTP/1.1 upgrades by the forwarder.
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
    }

    /// <summary>The container's id (header <c>Modal-Container-Id</c>).</summary>
    public string ContainerId { get; }

    /// <summary>Requests the container takes at once (the function's MaxConcurrentInputs), as announced to ingresses.</summary>
    public int MaxConcurrentRequests { get; }

    /// <summary>Where the container's app is reached, for messages.</summary>
    public string Description { get; }

    /// <summary>The client the forwarder sends the container's requests with.</summary>
    public HttpMessageInvoker Client { get; }

    /// <summary>The forwarder's settings for the container's requests.</summary>
    public ForwarderRequestConfig RequestConfig { get; }

    /// <summary>An ASP.NET Core app listening on <paramref name="socketPath"/> (the host path of its web socket).</summary>
    public static WebContainer ForSocket(string containerId, string socketPath, TimeSpan requestTimeout, int maxConcurrentRequests) =>
        new(containerId, socketPath, 0, null, requestTimeout, maxConcurrentRequests);

    /// <summary>
    /// A server on <paramref name="port"/> in the network namespace <paramref name="namespacePath"/> names (null while the
    /// namespace is not there yet); with no namespace at all (<paramref name="namespacePath"/> null: an unisolated
    /// container shares the node's network) the node's loopback.
    /// </summary>
    public static WebContainer ForPort(string containerId, int port, Func<string?>? namespacePath, TimeSpan requestTimeout, int maxConcurrentRequests) =>
        new(containerId, null, port, namespacePath, requestTimeout, maxConcurrentRequests);

    /// <summary>Opens a connection to the container's app.</summary>
    public async Task<Stream> ConnectAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Socket socket;
        if (_socketPath is not null)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(_socketPath), cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        else if (_namespacePath is not null)
        {
            var dialer = await DialerAsync();
            socket = await dialer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _port), cancellationToken);
        }
        else
        {
            socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _port), cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        return new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>
    /// Waits until the container's app accepts a connection; fails with <see cref="ContainerCrashedException"/> when
    /// <paramref name="exited"/> completes first or <paramref name="timeout"/> passes.
    /// </summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout, Task exited, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exited);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var lastError = "nothing listened yet";
        while (true)
        {
            if (exited.IsCompleted)
            {
                throw new ContainerCrashedException($"Container {ContainerId} exited before its server accepted connections on {Description}.");
            }
            try
            {
                await using var connection = await ConnectAsync(deadline.Token);
                return;
            }
            catch (Exception e) when (e is SocketException or IOException && !deadline.IsCancellationRequested)
            {
                lastError = e.Message;
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
            }
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(25), deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new ContainerCrashedException(
                    $"Container {ContainerId}'s server did not accept connections on {Description} within " +
                    $"{timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s (its StartupTimeout; last: {lastError}).");
            }
        }
    }

    public void Dispose()
    {
        _disposed = true;
        Client.Dispose();
        Task<NamespaceDialer>? dialer;
        lock (_gate)
        {
            dialer = _dialer;
        }
        if (dialer is { IsCompletedSuccessfully: true })
        {
            dialer.Result.Dispose();
        }
        else
        {
            _ = dialer?.ContinueWith(opened => opened.Result.Dispose(), CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
    }

    /// <summary>The namespace's dialer, opened once (again after a failed try: the namespace may not have been there yet).</summary>
    private Task<NamespaceDialer> DialerAsync()
    {
        lock (_gate)
        {
            if (_dialer is null || _dialer.IsFaulted)
            {
                _dialer = _namespacePath!() is { } path
                    ? NamespaceDialer.OpenAsync(path)
                    : Task.FromException<NamespaceDialer>(new IOException("The container's network namespace is not there yet."));
            }
            return _dialer;
        }
    }

    /// <summary>
    /// The network namespace of the sandbox bubblewrap made under <paramref name="bubblewrapPid"/> (a child process in
    /// namespaces of its own, whose network one, for a blocked network, only it has); null until that child is there.
    /// </summary>
    public static string? SandboxNamespaceOf(int bubblewrapPid)
    {
        var own = NamespaceId($"/proc/{bubblewrapPid}/ns/net");
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after its last ')'.
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length > 1 && fields[1] == bubblewrapPid.ToString(CultureInfo.InvariantCulture))
                {
                    var path = Path.Combine(folder, "ns", "net");
                    return NamespaceId(path) is { } id && id != own ? path : null;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Exited while we looked.
            }
        }
        return null;
    }

    private static string? NamespaceId(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget; // "net:[4026531840]": the namespace's inode.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
