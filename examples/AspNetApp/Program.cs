// Whole ASP.NET Core apps (Modal's asgi_app) and any server on a port (Modal's web_server), served the way Modal's
// Servers are: the ingress proxies each request straight to a ready container, streaming responses and WebSockets
// included. Deploy it with `modal deploy examples/AspNetApp` (the README shows the curl commands).
using System.Net;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Modal;
using AspNetAppExample;

var app = new App("example-aspnet-app");

// The SDK creates the builder and runs the app on Kestrel in each container; routes and middleware are as usual.
// Each container takes up to 4 requests at once; more requests start more containers.
app.AspNetApp("api", builder =>
{
    var web = builder.Build();
    web.UseWebSockets();
    web.MapGet("/", () => "Hello from ASP.NET Core in a Modal container!");
    web.MapGet("/items/{id:int}", (int id) => new Item(id, $"item {id}"));
    // Server-sent events: each event leaves as soon as it is written, through the ingress and the runner.
    web.MapGet("/events", (int? count, CancellationToken cancellationToken) =>
        TypedResults.ServerSentEvents(Ticks(Math.Clamp(count ?? 5, 1, 100), cancellationToken), eventType: "tick"));
    web.Map("/ws", EchoAsync);
    return web;
}, options: new FunctionOptions { MaxConcurrentInputs = 4 });

// A server that is not ASP.NET Core, started in [Enter] on a port: any program listening there would do.
app.WebServer<PlainServer>(PlainServer.DefaultPort, new WebServerOptions { Label = "plain" });

app.LocalEntrypoint(() =>
{
    Console.WriteLine("This app is served over HTTP: deploy it (`modal deploy examples/AspNetApp`), then e.g.");
    Console.WriteLine("  curl 'http://{workspace}--example-aspnet-app-api.localhost:5000/items/7'");
    Console.WriteLine("  curl -N 'http://{workspace}--example-aspnet-app-api.localhost:5000/events'");
    Console.WriteLine("(`modal deploy` prints each endpoint's URL).");
    return Task.CompletedTask;
});

return await app.RunAsync(args);

static async IAsyncEnumerable<string> Ticks(int count, [EnumeratorCancellation] CancellationToken cancellationToken)
{
    for (var i = 1; i <= count; i++)
    {
        yield return $"tick {i} of {count}";
        await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
    }
}

// Echoes every message until the client closes.
static async Task EchoAsync(HttpContext context)
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        await context.Response.WriteAsync("WebSocket requests only.");
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

namespace AspNetAppExample
{
/// <summary>What GET /items/{id} answers, as JSON.</summary>
public sealed record Item(int Id, string Name);

/// <summary>
/// A plain HTTP server (.NET's HttpListener, no ASP.NET Core) started once per container in [Enter] and stopped in
/// [Exit]. It listens on the container's loopback, on the port the platform names (MODAL_WEB_PORT), else its own.
/// </summary>
public sealed class PlainServer : IDisposable
{
    /// <summary>The port registered with app.WebServer; the platform passes it back as MODAL_WEB_PORT.</summary>
    public const int DefaultPort = 8000;

    private readonly HttpListener _listener = new();
    private Task? _serving;

    [Enter]
    public void Start()
    {
        var port = int.TryParse(Environment.GetEnvironmentVariable("MODAL_WEB_PORT"), out var named) ? named : DefaultPort;
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        // [Enter] returns once the server listens; it serves in the background for the container's lifetime.
        _serving = Task.Run(ServeAsync);
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // Stopped in [Exit].
            }
            // Requests are answered concurrently: the platform sends a container up to MaxConcurrentInputs at once.
            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private static async Task AnswerAsync(HttpListenerContext context)
    {
        try
        {
            var body = Encoding.UTF8.GetBytes($"Hello from a plain server: {context.Request.HttpMethod} {context.Request.Url?.PathAndQuery}\n");
            context.Response.ContentType = "text/plain; charset=utf-8";
            context.Response.ContentLength64 = body.Length;
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
        catch (HttpListenerException)
        {
            // The client went away.
        }
    }

    [Exit]
    public async Task StopAsync()
    {
        _listener.Stop();
        if (_serving is not null)
        {
            await _serving;
        }
    }

    public void Dispose() => _listener.Close();
}
}
