// Server containers as the runner's web forwarder sees them: an ASP.NET Core app that shows what reaches it (headers,
// query, body), streams events, echoes WebSocket messages and can die mid-request, and plain servers on a port (a raw
// TCP server standing in for any language's) in the container's own network, with and without egress, one started by
// a class whose [Exit] hook leaves a marker, and one that never listens. The platform's web forwarder tests run it.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Modal;
using WebProbesExample;

var app = new App("example-web-probes");

app.AspNetApp("app", builder =>
{
    var web = builder.Build();
    web.UseWebSockets();
    web.MapGet("/", () => "hello from the probes' app");
    // What arrived: method, path and query as sent, then every header (one "name: value" per line).
    web.MapMethods("/headers", ["GET", "POST"], (HttpRequest request) =>
        $"{request.Method} {request.Path}{request.QueryString}\n" +
        string.Join('\n', request.Headers.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}: {h.Value}")));
    web.MapPost("/echo", async (HttpRequest request) => await new StreamReader(request.Body).ReadToEndAsync());
    // One event at once, then nothing until the client goes: it arrives only if nothing on the way buffers it.
    web.MapGet("/events", (CancellationToken cancellationToken) => TypedResults.ServerSentEvents(FirstThenWait(cancellationToken)));
    web.Map("/ws", EchoAsync);
    // Holds the request `ms` milliseconds and answers which container served it and the most requests it ever held
    // at once: what a per-container concurrency limit is checked by.
    web.MapGet("/busy", async (int ms) =>
    {
        var now = Interlocked.Increment(ref Busy.Current);
        InterlockedMax(ref Busy.Most, now);
        try
        {
            await Task.Delay(Math.Clamp(ms, 0, 10_000));
        }
        finally
        {
            Interlocked.Decrement(ref Busy.Current);
        }
        return $"{Busy.ContainerMark} {Volatile.Read(ref Busy.Most)}";
    });
    // The container dies (killed, as by the kernel) while this request waits for its answer.
    web.MapGet("/die", async () =>
    {
        _ = Task.Delay(200).ContinueWith(_ => Process.GetCurrentProcess().Kill(), TaskScheduler.Default);
        await Task.Delay(Timeout.Infinite);
    });
    return web;
}, options: new FunctionOptions { MaxConcurrentInputs = 4 });

// Plain servers on a port, in the container's own network namespace (with egress, and with none at all).
app.WebServer("port", RawServer.Port, cancellationToken => RawServer.ServeAsync("port", cancellationToken));
app.WebServer("blocked", RawServer.Port, cancellationToken => RawServer.ServeAsync("blocked", cancellationToken),
    options: new FunctionOptions { BlockNetwork = true });

// A server class: [Enter] starts it, [Exit] (the container stopping) leaves a marker.
app.WebServer<ProbeServer>(RawServer.Port);

// Never listens: its containers fail to start after the StartupTimeout.
app.WebServer("silent", RawServer.Port, cancellationToken => Task.Delay(Timeout.Infinite, cancellationToken),
    new WebServerOptions { StartupTimeout = TimeSpan.FromSeconds(1) });

return await app.RunAsync(args);

static void InterlockedMax(ref int most, int value)
{
    for (var seen = Volatile.Read(ref most); value > seen; seen = Volatile.Read(ref most))
    {
        if (Interlocked.CompareExchange(ref most, value, seen) == seen)
        {
            return;
        }
    }
}

static async IAsyncEnumerable<string> FirstThenWait([EnumeratorCancellation] CancellationToken cancellationToken)
{
    yield return "first";
    await Task.Delay(Timeout.Infinite, cancellationToken);
    yield return "never";
}

static async Task EchoAsync(HttpContext context)
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var buffer = new byte[4096];
    while (true)
    {
        var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
        if (received.MessageType == WebSocketMessageType.Close)
        {
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", context.RequestAborted);
            return;
        }
        await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, context.RequestAborted);
    }
}

namespace WebProbesExample
{
/// <summary>Requests the app holds now and at most, in this container (one process: one container).</summary>
internal static class Busy
{
    public static int Current;
    public static int Most;

    /// <summary>Tells this container's answers from another's.</summary>
    public static readonly string ContainerMark = Guid.NewGuid().ToString("N")[..12];
}

/// <summary>
/// A minimal HTTP/1.1 server on a raw socket (no ASP.NET Core): answers every request "{name} {path}" and closes. It
/// listens on the container's loopback at MODAL_WEB_PORT, as a server in any language would.
/// </summary>
public static class RawServer
{
    /// <summary>An unusual port, so a listener of the node's own is unlikely to be on it.</summary>
    public const int Port = 18743;

    public static async Task ServeAsync(string name, CancellationToken cancellationToken)
    {
        var port = int.Parse(Environment.GetEnvironmentVariable("MODAL_WEB_PORT") ?? Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            System.Globalization.CultureInfo.InvariantCulture);
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        while (!cancellationToken.IsCancellationRequested)
        {
            var client = await listener.AcceptTcpClientAsync(cancellationToken);
            _ = Task.Run(() => AnswerAsync(name, client), CancellationToken.None);
        }
    }

    private static async Task AnswerAsync(string name, TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var request = new StringBuilder();
                var buffer = new byte[4096];
                while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer);
                    if (read == 0)
                    {
                        return;
                    }
                    request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                }
                var path = request.ToString().Split(' ')[1];
                var body = $"{name} {path}";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}"));
            }
            catch (IOException)
            {
                // The client went away.
            }
        }
    }
}

/// <summary>A server started by [Enter]; its [Exit] hook, run when the container stops, leaves a marker.</summary>
public sealed class ProbeServer : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _serving;

    [Enter]
    public void Start() => _serving = RawServer.ServeAsync("class", _stopping.Token);

    [Exit]
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await (_serving ?? Task.CompletedTask);
        }
        catch (OperationCanceledException)
        {
        }
        if (Environment.GetEnvironmentVariable("MODAL_EXAMPLE_MARKERS") is { Length: > 0 } markers)
        {
            await File.WriteAllTextAsync(Path.Combine(markers, $"web-exit-{Guid.NewGuid():N}"), "exited");
        }
    }

    public void Dispose() => _stopping.Dispose();
}
}
