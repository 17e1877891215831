using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Modal.Container.Protocol;
using Modal.GpuRunner.Containers;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// The container side of web endpoints with a real container process (examples/AspNetApp and WebEndpoint): the SDK hosts the
/// ASP.NET Core app on the web socket, or starts the server class on its port, before the function socket exists, and
/// stops it when the runner hangs up.
/// </summary>
public sealed class ContainerWebServerTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"modal-web-{Guid.NewGuid():N}");
    private readonly ConcurrentQueue<string> _output = new();
    private ContainerProcess? _container;

    private string RuntimeRoot => Path.Combine(_root, "run");

    private string WebSocketPath => Path.Combine(_root, "web", "web.sock");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task AspNetApp_OnTheWebSocket_AnswersRoutesStreamsEventsAndEchoesWebSockets()
    {
        _container = await StartAsync(new Dictionary<string, string>
        {
            [ContainerProtocol.WebFunctionVariable] = "api",
            [ContainerProtocol.WebSocketVariable] = WebSocketPath,
        });
        using var handler = OverUnixSocket(WebSocketPath);
        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri("http://api.test") };

        // Ready as soon as the runner could connect: the app listened before the function socket existed.
        Assert.Equal("Hello from ASP.NET Core in a Modal container!", await http.GetStringAsync(new Uri("/", UriKind.Relative)));
        var item = await http.GetFromJsonAsync<ItemAnswer>(new Uri("/items/7", UriKind.Relative));
        Assert.Equal(new ItemAnswer(7, "item 7"), item);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(new Uri("/items/seven", UriKind.Relative))).StatusCode);

        // Server-sent events arrive one by one while the response is still open.
        using var events = await http.GetAsync(new Uri("/events?count=3", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();
        Assert.Equal("event: tick", first);
        var data = new List<string> { (await reader.ReadLineAsync())! };
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Add(line);
            }
        }
        Assert.Equal(["data: tick 1 of 3", "data: tick 2 of 3", "data: tick 3 of 3"], data);

        // A WebSocket echo over the same socket.
        using var socket = new ClientWebSocket();
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        await socket.ConnectAsync(new Uri("ws://api.test/ws"), invoker, CancellationToken.None);
        foreach (var message in (string[])["hello", "world"])
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            var buffer = new byte[64];
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal(message, Encoding.UTF8.GetString(buffer, 0, received.Count));
        }
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task AspNetApp_RunnerHangsUp_StopsTheAppAndExits()
    {
        var container = _container = await StartAsync(new Dictionary<string, string>
        {
            [ContainerProtocol.WebFunctionVariable] = "api",
            [ContainerProtocol.WebSocketVariable] = WebSocketPath,
        });
        Assert.True(File.Exists(WebSocketPath));
        // The runner's forwarder connects as another user.
        Assert.Equal(UnixFileMode.OtherRead | UnixFileMode.OtherWrite, File.GetUnixFileMode(WebSocketPath) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite));

        // Hangs up, waits up to 5 s for the process to exit, then kills it.
        _container = null;
        await container.DisposeAsync();

        // Deleted by the graceful stop only (a killed container leaves it): the app was stopped, not killed.
        Assert.False(File.Exists(WebSocketPath), string.Join('\n', _output));
    }

    [Fact]
    public async Task ServerClass_EnterStartsItOnItsPort_AndHangingUpRunsExit()
    {
        var port = FreePort();
        var container = _container = await StartAsync(new Dictionary<string, string>
        {
            // No MODAL_CLASS: the web function alone says which class to enter (and so to exit).
            [ContainerProtocol.WebFunctionVariable] = "PlainServer",
            [ContainerProtocol.WebPortVariable] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MODAL_EXAMPLE_MARKERS"] = _root,
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        Assert.Equal("Hello from a plain server: GET /hello?x=1\n", await http.GetStringAsync(new Uri("/hello?x=1", UriKind.Relative)));
        // The web container still answers inputs on its function socket (here: its function is served over HTTP only).
        var input = await container.InvokeAsync("PlainServer", "{}", "fc-test", (_, _) => { }, CancellationToken.None);
        Assert.Contains("over HTTP", input.Message, StringComparison.Ordinal);

        _container = null;
        await container.DisposeAsync();

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync(new Uri("/", UriKind.Relative)));
        Assert.Equal("stopped", await File.ReadAllTextAsync(Path.Combine(_root, "plain-server-exit")));
    }

    [Fact]
    public async Task WebFunctions_RunAsOrdinaryInputs_AndAWebResponseTravelsAsItsJson()
    {
        var container = _container = await StartAsync([], "WebEndpoint");

        var greet = await container.InvokeAsync("greet", """{"name": "Ada", "times": 2}""", "fc-test", (_, _) => { }, CancellationToken.None);
        var add = await container.InvokeAsync("add", """{"a": 2, "b": 3}""", "fc-test", (_, _) => { }, CancellationToken.None);
        var create = await container.InvokeAsync("create", """{"name": "a b"}""", "fc-test", (_, _) => { }, CancellationToken.None);

        Assert.Equal("\"Hello, Ada! Hello, Ada!\"", greet.ResultJson);
        Assert.Equal("""{"a":2,"b":3,"result":5}""", add.ResultJson);
        // What the ingress writes raw: this exact shape (Modal.WebResponse with the SDK's web JSON defaults).
        Assert.Equal(
            """{"statusCode":201,"body":"created a b","contentType":"text/plain; charset=utf-8","headers":{"Location":"/items/a%20b","X-Example":"web-endpoint"}}""",
            create.ResultJson);
    }

    private Task<ContainerProcess> StartAsync(Dictionary<string, string> environment, string example = "AspNetApp") =>
        ContainerProcess.StartAsync(new ContainerSpec($"c-{Guid.NewGuid():N}"[..14], Examples.OutputDirectory(example), $"{example}.dll", environment),
            RuntimeRoot, TimeSpan.FromSeconds(60), (line, _) => _output.Enqueue(line), CancellationToken.None);

    /// <summary>An HTTP handler whose every connection goes to a Unix socket, as the runner's web forwarder connects.</summary>
    private static SocketsHttpHandler OverUnixSocket(string path) => new()
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record ItemAnswer(int Id, string Name);
}
