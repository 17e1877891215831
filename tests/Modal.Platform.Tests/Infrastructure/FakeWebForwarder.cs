using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Web;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Plays a runner's web forwarder on a real loopback port (until the runner's own lands in these tests): takes only
/// requests with the runner key and a container id, answers as that container's app would (an echo of what reached it,
/// a slow route that counts concurrency, a server-sent event stream, a connection that dies), and 404s with the
/// forwarder's marker for containers it was told are gone.
/// </summary>
internal sealed class FakeWebForwarder : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeWebForwarder(WebApplication app, string runnerKey)
    {
        _app = app;
        RunnerKey = runnerKey;
    }

    public string RunnerKey { get; }

    public Uri Url => new(_app.Urls.First());

    /// <summary>Containers this "runner" no longer has.</summary>
    public ConcurrentDictionary<string, bool> Gone { get; } = new();

    /// <summary>Requests each container got.</summary>
    public ConcurrentDictionary<string, int> Served { get; } = new();

    /// <summary>The most requests one container had at once.</summary>
    public ConcurrentDictionary<string, int> MaxConcurrent { get; } = new();

    private readonly ConcurrentDictionary<string, int> _current = new();

    /// <summary>How long <c>/slow</c> takes.</summary>
    public TimeSpan SlowFor { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>Released by the test: the second event of <c>/events</c> is sent after it.</summary>
    public TaskCompletionSource SecondEvent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<FakeWebForwarder> StartAsync(string runnerKey)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1AndHttp2));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeWebForwarder(app, runnerKey);
        app.UseWebSockets();
        app.Run(fake.ServeAsync);
        await app.StartAsync();
        return fake;
    }

    private async Task ServeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Headers[ApiHeaders.RunnerKey] != RunnerKey)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }
        var container = request.Headers[WebHeaders.ContainerId].ToString();
        if (container.Length == 0 || Gone.ContainsKey(container))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.Headers[WebHeaders.ForwarderError] = WebHeaders.ContainerNotFound;
            await context.Response.WriteAsJsonAsync(new { title = "Container not found" });
            return;
        }
        Served.AddOrUpdate(container, 1, (_, n) => n + 1);
        var now = _current.AddOrUpdate(container, 1, (_, n) => n + 1);
        MaxConcurrent.AddOrUpdate(container, now, (_, n) => Math.Max(n, now));
        try
        {
            switch (request.Path.Value)
            {
                case "/slow":
                    await Task.Delay(SlowFor);
                    await context.Response.WriteAsync(container);
                    return;
                case "/die":
                    context.Abort();
                    return;
                case "/app-404":
                    context.Response.StatusCode = StatusCodes.Status404NotFound;
                    await context.Response.WriteAsync("the app's own 404");
                    return;
                case "/events":
                    context.Response.ContentType = "text/event-stream";
                    await context.Response.WriteAsync("data: one\n\n");
                    await context.Response.Body.FlushAsync();
                    await SecondEvent.Task;
                    await context.Response.WriteAsync("data: two\n\n");
                    return;
                case "/ws" when context.WebSockets.IsWebSocketRequest:
                    using (var socket = await context.WebSockets.AcceptWebSocketAsync())
                    {
                        var buffer = new byte[1024];
                        var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                        await socket.SendAsync(buffer.AsMemory(0, received.Count), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
                        await socket.CloseAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
                    }
                    return;
                default:
                    using (var reader = new StreamReader(request.Body))
                    {
                        var body = await reader.ReadToEndAsync();
                        await context.Response.WriteAsJsonAsync(new Echo(
                            container, request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", body,
                            request.Headers["X-Forwarded-Host"].ToString(), request.Headers["X-Forwarded-Proto"].ToString(),
                            request.Headers["X-Forwarded-Prefix"].ToString(), request.Headers["X-Forwarded-For"].ToString(),
                            request.Headers.ContainsKey(WebHeaders.ProxyKey) || request.Headers.ContainsKey(WebHeaders.ProxySecret)));
                    }
                    return;
            }
        }
        finally
        {
            _current.AddOrUpdate(container, 0, (_, n) => n - 1);
        }
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}

/// <summary>What reached a fake container.</summary>
internal sealed record Echo(
    string Container, string Method, string Path, string Query, string Body, string ForwardedHost, string ForwardedProto, string ForwardedPrefix,
    string ForwardedFor, bool SawProxyKey)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<Echo> ReadAsync(HttpResponseMessage response) =>
        JsonSerializer.Deserialize<Echo>(await response.Content.ReadAsStringAsync(), Json)!;
}
