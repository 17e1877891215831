using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using Modal.Api.Contracts.Web;
using Modal.Deployment;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// The whole web stack as a user meets it: Storage, the Api with its ingress (on a real port), the Scheduler and a
/// GpuRunner with its web forwarder (on a real port), all on the real infrastructure, with examples/WebEndpoint,
/// examples/AspNetApp and examples/WebProbes deployed as `modal deploy` deploys them. Every request is a plain HTTP
/// client's, to the URL the platform lists; containers are real (bubblewrap, their own network namespaces) and start
/// only when a request needs them.
/// </summary>
public sealed class WebServerSpineFixture : IAsyncLifetime
{
    private const string RunnerKey = "web-server-spine-runner-key-0123456789abcdef";

    // A property, not a field, so CA1001 does not ask for IDisposable: IAsyncLifetime.DisposeAsync disposes it.
    private PlatformServices Platform { get; } = new("modal-runner-");

    public ModalClient Client => Platform.Client;

    /// <summary>A client with no credential, as curl; redirects are not followed, so a 303 is seen.</summary>
    public HttpClient Anonymous { get; } = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false }) { Timeout = TimeSpan.FromMinutes(3) };

    /// <summary>Every listed endpoint of the three apps, by "{app}/{function}".</summary>
    public Dictionary<string, WebEndpointInfo> Endpoints { get; } = [];

    public string Markers { get; } = Directory.CreateTempSubdirectory("modal-web-spine-markers-").FullName;

    public async Task InitializeAsync()
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Markers, (UnixFileMode)0x1ff); // Written by the containers' uid.
        }
        Platform.Start(
            ("Api:RunnerKey", RunnerKey),
            // Short, so the 303 path is seen without waiting 150 s.
            ("Ingress:WebFunctionTimeout", "00:00:02"));
        Anonymous.BaseAddress = Platform.ApiHttp.BaseAddress;

        var runner = Platform.AddRunner($"webspine-{Guid.NewGuid():N}"[..20], Platform.Root,
            ("GpuRunner:RunnerKey", RunnerKey),
            ("GpuRunner:ContainerEnvironment:MODAL_EXAMPLE_MARKERS", Markers),
            ($"GpuRunner:ContainerBinds:{Markers}", Markers));
        // On a real port: the ingress reaches the forwarder over HTTP, WebSocket upgrades included.
        runner.UseKestrel(0);
        runner.StartServer();
        Platform.StartScheduler(("Scheduler:ScalingInterval", "00:00:00.250"));

        foreach (var example in new[] { "WebEndpoint", "AspNetApp", "WebProbes" })
        {
            await AppDeployer.DeployAsync(Client, Examples.OutputDirectory(example), $"{example}.dll");
        }
        foreach (var endpoint in (await Client.WebEndpoints.ListAsync()).Endpoints)
        {
            Endpoints[$"{endpoint.App}/{endpoint.Function}"] = endpoint;
        }
    }

    /// <summary>The path-form URL of an endpoint (with <paramref name="rest"/> after it): .NET's resolver does not resolve *.localhost.</summary>
    public Uri Url(string appAndFunction, string rest = "") => new(new Uri(Endpoints[appAndFunction].PathUrl), rest);

    public async Task DisposeAsync()
    {
        Anonymous.Dispose();
        await Platform.DisposeAsync();
        PlatformServices.DeleteFolder(Markers);
    }
}

[Collection(InfrastructureTestGroup.Name)]
public sealed class WebServerSpineTests(WebServerSpineFixture web) : IClassFixture<WebServerSpineFixture>
{
    private const string AspNet = "example-aspnet-app";
    private const string Probes = "example-web-probes";
    private const string WebFunctions = "example-web-endpoint";

    [Fact]
    public async Task AspNetApp_FirstRequestScalesFromZero_ThenItsRoutesAnswer()
    {
        // No container runs before the first request: it waits for one to start, then is served.
        using var home = await web.Anonymous.GetAsync(web.Url($"{AspNet}/api"));
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.Equal("Hello from ASP.NET Core in a Modal container!", await home.Content.ReadAsStringAsync());

        var item = await web.Anonymous.GetFromJsonAsync<Dictionary<string, object>>(web.Url($"{AspNet}/api", "items/7"));
        Assert.Equal("item 7", item!["name"].ToString());
        using var missing = await web.Anonymous.GetAsync(web.Url($"{AspNet}/api", "no-such-route"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode); // The app's own 404 passes through.
    }

    [Fact]
    public async Task AspNetApp_ServerSentEvents_ArriveOneByOneThroughTheIngress()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, web.Url($"{AspNet}/api", "events?count=3"));
        using var response = await web.Anonymous.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var data = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data.Add(line["data: ".Length..]);
            }
        }
        Assert.Equal(["tick 1 of 3", "tick 2 of 3", "tick 3 of 3"], data);
    }

    [Fact]
    public async Task Probes_FirstEventArrivesBeforeTheStreamEnds()
    {
        // The probes' stream sends one event and then nothing: it is seen only if no hop buffers the response.
        using var request = new HttpRequestMessage(HttpMethod.Get, web.Url($"{Probes}/app", "events"));
        using var response = await web.Anonymous.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        string? line;
        do
        {
            line = await reader.ReadLineAsync(timeout.Token);
        }
        while (line is not null && !line.StartsWith("data:", StringComparison.Ordinal));
        Assert.Equal("data: first", line);
    }

    [Fact]
    public async Task AspNetApp_WebSocketEcho_ThroughTheIngress()
    {
        var url = new UriBuilder(web.Url($"{AspNet}/api", "ws")) { Scheme = "ws" }.Uri;
        using var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await socket.ConnectAsync(url, timeout.Token);
        foreach (var message in new[] { "hello", "through the ingress and the runner" })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
            var buffer = new byte[1024];
            var received = await socket.ReceiveAsync(buffer, timeout.Token);
            Assert.Equal(message, Encoding.UTF8.GetString(buffer, 0, received.Count));
        }
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task PlainServerStartedInEnter_AnswersThroughTheIngress()
    {
        using var response = await web.Anonymous.GetAsync(web.Url($"{AspNet}/PlainServer", "hello?x=1"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Hello from a plain server: GET /hello?x=1", (await response.Content.ReadAsStringAsync()).Trim());
    }

    [Fact]
    public async Task Probes_ConcurrencyLimit_NoContainerHoldsMoreThanItsLimit()
    {
        // MaxConcurrentInputs = 4: twelve requests held a second each may not put a fifth into any container.
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            using var response = await web.Anonymous.GetAsync(web.Url($"{Probes}/app", "busy?ms=1500"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var parts = (await response.Content.ReadAsStringAsync()).Split(' ');
            return (Container: parts[0], Most: int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        }));
        Assert.All(answers, answer => Assert.InRange(answer.Most, 1, 4));
        Assert.Equal(12, answers.Length);
    }

    [Fact]
    public async Task Probes_ContainerDiesMidRequest_502ProblemThenAFreshContainerServes()
    {
        using var died = await web.Anonymous.GetAsync(web.Url($"{Probes}/app", "die"));
        Assert.Equal(HttpStatusCode.BadGateway, died.StatusCode);
        Assert.Equal("application/problem+json", died.Content.Headers.ContentType?.MediaType);

        // The dead container leaves the table; the next request waits for a fresh one.
        var next = await Eventually.ReturnsAsync(async () =>
        {
            using var response = await web.Anonymous.GetAsync(web.Url($"{Probes}/app"));
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }, answer => answer.StatusCode == HttpStatusCode.OK, "a fresh container serves after one died");
        Assert.Equal("hello from the probes' app", next.Body);
    }

    [Fact]
    public async Task WebFunctions_FromTheExample_BindRetryAndAnswerRaw()
    {
        var greeting = await web.Anonymous.GetFromJsonAsync<string>(web.Url($"{WebFunctions}/greet", "?name=Ada&times=2"));
        Assert.Equal("Hello, Ada! Hello, Ada!", greeting);

        using var sum = await web.Anonymous.PostAsJsonAsync(web.Url($"{WebFunctions}/add"), new { a = 2, b = 3 });
        Assert.Equal("""{"a":2,"b":3,"result":5}""", await sum.Content.ReadAsStringAsync());

        // Fails on its first two attempts (counted in a Dict by key): the client sees only the retried success. Two 1 s
        // backoffs reach this fixture's 2 s ingress wait, so the answer may come as a 303 to its result URL: followed,
        // as curl -L or a browser would.
        var key = Guid.NewGuid().ToString("N");
        using var following = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromMinutes(3) };
        var flaky = await following.GetFromJsonAsync<string>(web.Url($"{WebFunctions}/flaky", $"?key={key}"));
        Assert.Equal($"'{key}' succeeded on attempt 3", flaky);

        using var created = await web.Anonymous.PostAsJsonAsync(web.Url($"{WebFunctions}/create"), new { name = "widget" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/items/widget", created.Headers.Location?.OriginalString);
        Assert.Equal("created widget", await created.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task WebFunction_SlowerThanTheIngressWaits_303ToAResultUrlThatAnswers()
    {
        using var first = await web.Anonymous.GetAsync(web.Url($"{WebFunctions}/slow", "?seconds=5"));
        Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        var resultUrl = new Uri(first.RequestMessage!.RequestUri!, first.Headers.Location!);
        var answer = await Eventually.ReturnsAsync(async () =>
        {
            using var response = await web.Anonymous.GetAsync(resultUrl);
            if (response.StatusCode == HttpStatusCode.SeeOther)
            {
                resultUrl = new Uri(resultUrl, response.Headers.Location!);
            }
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }, response => response.StatusCode == HttpStatusCode.OK, "the result URL answers once the call ends");
        Assert.Equal("\"slept 5 s\"", answer.Body);
    }
}
