using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Modal.Container;

namespace Modal.Platform.Tests.Unit;

/// <summary>The SDK's web hosting in this process: what a container does with its app or server, without a runner.</summary>
public sealed class ContainerWebServerHostingTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"modal-webhost-{Guid.NewGuid():N}");

    private string SocketPath => Path.Combine(_folder, "web.sock");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task StartAsync_AspNetApp_ListensOnlyOnTheSocketUntilDisposed()
    {
        var app = new App("web");
        app.AspNetApp("api", builder =>
        {
            var web = builder.Build();
            web.MapGet("/hello", () => "hello");
            return web;
        });
        Directory.CreateDirectory(_folder);
        await File.WriteAllTextAsync(SocketPath, "a stale file an earlier container left");

        var server = await ContainerWebServer.StartAsync(app, "api", SocketPath, CancellationToken.None);
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        });

        Assert.Equal("hello", await http.GetStringAsync(new Uri("http://app.test/hello")));
        Assert.Equal([$"http://unix:{SocketPath}"], server.Addresses);
        await server.DisposeAsync();
        Assert.False(File.Exists(SocketPath));
        Assert.False(server.HasFailed);
    }

    [Fact]
    public async Task StartAsync_ServerRunningUntilCancelled_IsStoppedByDispose()
    {
        var app = new App("web");
        var stopped = new TaskCompletionSource();
        app.WebServer("server", 8080, async cancellationToken =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                stopped.SetResult();
            }
        });

        var server = await ContainerWebServer.StartAsync(app, "server", SocketPath, CancellationToken.None);
        Assert.False(stopped.Task.IsCompleted);
        await server.DisposeAsync();

        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(server.HasFailed);
    }

    [Fact]
    public async Task StartAsync_ServerThatThrows_SignalsFailure()
    {
        var app = new App("web");
        app.WebServer("server", 8080, async _ =>
        {
            await Task.Yield();
            throw new InvalidOperationException("port taken");
        });

        var server = await ContainerWebServer.StartAsync(app, "server", SocketPath, CancellationToken.None);
        await Task.Delay(Timeout.Infinite, server.Failed).ContinueWith(_ => { }, TaskScheduler.Default).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(server.HasFailed);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task StartAsync_FunctionThatIsNotAServer_Throws()
    {
        var app = new App("web");
        app.Function("plain", () => 1, new FunctionOptions { WebEndpoint = new WebEndpoint() });

        var notServer = await Assert.ThrowsAsync<InvalidOperationException>(() => ContainerWebServer.StartAsync(app, "plain", SocketPath, CancellationToken.None));
        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => ContainerWebServer.StartAsync(app, "nope", SocketPath, CancellationToken.None));

        Assert.Contains("not an ASP.NET Core app or a web server", notServer.Message, StringComparison.Ordinal);
        Assert.Contains("no function named 'nope'", missing.Message, StringComparison.Ordinal);
    }
}
