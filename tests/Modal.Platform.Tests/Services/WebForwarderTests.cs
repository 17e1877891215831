using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Web;
using Modal.Contracts.Containers;
using Modal.Contracts.Runners;
using Modal.Contracts.Web;
using Modal.Deployment;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Storage, Api and a GpuRunner listening on a real port (its web forwarder is a route of its own server), with
/// examples/WebProbes deployed. No Scheduler: each test starts its server containers by sending the runner
/// <see cref="StartContainer"/> as the Scheduler would, and watches the runner's events.
/// </summary>
public sealed class WebRunnerFixture : IAsyncLifetime
{
    public const string RunnerKey = "web-forwarder-tests-runner-key-0123456789";

    // A property, not a field, so CA1001 does not ask for IDisposable: IAsyncLifetime.DisposeAsync disposes it.
    private PlatformServices Platform { get; } = new("modal-runner-");

    public ServiceFactory<GpuRunnerOptions>? Runner { get; private set; }
    public string RunnerId { get; } = $"web-{Guid.NewGuid():N}"[..16];

    /// <summary>The runner's own address: its web forwarder.</summary>
    public Uri RunnerUrl { get; private set; } = null!;

    /// <summary>The probes' functions, by name.</summary>
    public Dictionary<string, Guid> Functions { get; } = [];

    /// <summary>The runner's events: containers started, stopped and ready for requests, and its heartbeats.</summary>
    internal BusEventRecorder Events { get; private set; } = null!;

    public string Markers { get; } = Directory.CreateTempSubdirectory("modal-web-markers-").FullName;

    /// <summary>The runner's runtime folder (server containers' web folders are under it).</summary>
    public string RuntimeDirectory => Path.Combine(Platform.Root, "run");

    public async Task InitializeAsync()
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Markers, (UnixFileMode)0x1ff); // Written by the containers' uid.
        }
        Platform.Start();
        var client = Platform.Client;

        Events = await BusEventRecorder.StartAsync<WebContainerReady, ContainerStopped, ContainerStarted, RunnerCapacityReported, ContainerStartFailed>(
            Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq")!);
        Runner = StartRunner(RunnerId);
        RunnerUrl = Runner.CreateClient().BaseAddress!;
        await WaitUntilConsumingAsync(Runner);

        var deployment = await AppDeployer.DeployAsync(client, Examples.OutputDirectory("WebProbes"), "WebProbes.dll");
        foreach (var function in deployment.App.Functions)
        {
            Functions[function.Name] = function.Id;
        }
    }

    /// <summary>
    /// Starts a runner on a real port: ingresses reach the forwarder over HTTP (WebSocket upgrades included), and it
    /// names its own address.
    /// </summary>
    public ServiceFactory<GpuRunnerOptions> StartRunner(string runnerId, params (string Key, string Value)[] settings)
    {
        var runner = Platform.NewRunner(runnerId, Platform.Root,
        [
            ("GpuRunner:RunnerKey", RunnerKey),
            ("GpuRunner:ContainerEnvironment:MODAL_EXAMPLE_MARKERS", Markers),
            ($"GpuRunner:ContainerBinds:{Markers}", Markers),
            .. settings,
        ]);
        runner.UseKestrel(0);
        runner.StartServer();
        return runner;
    }

    /// <summary>
    /// Waits until <paramref name="runner"/>'s bus consumes (a container command sent before its temporary queue is bound
    /// would be lost) and it has heartbeated.
    /// </summary>
    public static Task WaitUntilConsumingAsync(ServiceFactory<GpuRunnerOptions> runner) =>
        Eventually.ReturnsAsync(() => HealthReport.ReadAsync(runner.CreateClient()),
            report => report.Checks.Count > 0 && report.Checks.Where(check => check.Key != "container-isolation").All(check => check.Value == "Healthy"),
            "the runner's bus and heartbeat are healthy");

    /// <summary>Starts a container of <paramref name="function"/> on the runner, as the Scheduler would; returns its id.</summary>
    public Task<string> StartContainerAsync(string function) => StartContainerAsync(function, RunnerId);

    /// <summary>Starts a container of <paramref name="function"/> on runner <paramref name="runnerId"/>; returns its id.</summary>
    public async Task<string> StartContainerAsync(string function, string runnerId)
    {
        var containerId = $"{function}-{Guid.NewGuid():N}"[..Math.Min(function.Length + 13, 48)].ToLowerInvariant();
        // The runner hears of the deployment on a queue of its own: it waits for it a while, as for the Scheduler's commands.
        await Events.SendAsync(RunnerQueues.ContainersAddressOf(runnerId), new StartContainer
        {
            ContainerId = containerId, RunnerId = runnerId, FunctionId = Functions[function], RequestedAt = DateTimeOffset.UtcNow,
        });
        return containerId;
    }

    /// <summary>Starts a container of <paramref name="function"/> and waits until it is announced ready for requests.</summary>
    public async Task<WebContainerReady> StartReadyContainerAsync(string function, string? runnerId = null)
    {
        // A runner started moments ago may not know the deployment yet (it asks the Api at start, and waits 10 s for a
        // command's function): it refuses with "UnknownFunction", and the Scheduler would place the container again.
        for (var attempt = 1; ; attempt++)
        {
            var containerId = await StartContainerAsync(function, runnerId ?? RunnerId);
            await Eventually.ReturnsAsync(() => Task.FromResult(Events.Events.Any(e => e switch
                {
                    WebContainerReady ready => ready.ContainerId == containerId,
                    ContainerStopped stopped => stopped.ContainerId == containerId,
                    ContainerStartFailed failed => failed.ContainerId == containerId,
                    _ => false,
                })), settled => settled, $"container {containerId} of {function} is announced ready, or stops, or is refused");
            if (Events.Events.OfType<WebContainerReady>().FirstOrDefault(e => e.ContainerId == containerId) is { } announced)
            {
                return announced;
            }
            var refused = Events.Events.OfType<ContainerStartFailed>().FirstOrDefault(e => e.ContainerId == containerId);
            if (refused is { Reason: "UnknownFunction" } && attempt < 3)
            {
                continue;
            }
            throw new InvalidOperationException(refused is null
                ? $"Container {containerId} of {function} stopped instead of becoming ready."
                : $"Container {containerId} of {function} was refused: {refused.Reason}: {refused.Message}");
        }
    }

    public async Task StopContainerAsync(string containerId) =>
        await Events.SendAsync(RunnerQueues.ContainersAddressOf(RunnerId),
            new StopContainer { ContainerId = containerId, RunnerId = RunnerId, Reason = "ScaledDown" });

    /// <summary>A client of the runner's forwarder, with the runner key unless told otherwise.</summary>
    public HttpClient Forwarder(string containerId, string? runnerKey = RunnerKey, Uri? runnerUrl = null)
    {
        var http = new HttpClient { BaseAddress = runnerUrl ?? RunnerUrl, Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add(WebHeaders.ContainerId, containerId);
        if (runnerKey is not null)
        {
            http.DefaultRequestHeaders.Add(ApiHeaders.RunnerKey, runnerKey);
        }
        return http;
    }

    public async Task DisposeAsync()
    {
        // The fixture's runner is the fixture's (StartRunner's runners are their callers'): it goes before the platform.
        if (Runner is not null)
        {
            await Runner.DisposeAsync();
        }
        await Platform.DisposeAsync();
        await Events.DisposeAsync();
        PlatformServices.DeleteFolder(Markers);
    }
}

/// <summary>
/// The runner's web forwarder in front of real server containers (bubblewrap, each in its own network namespace) of
/// examples/WebProbes: what an ingress sends reaches the container as sent, the runner key is required and never passed
/// on, unknown containers are 404, streams and WebSockets pass, a container dying mid-request is a 502, and a server's
/// port is reached inside its namespace, not on the node's loopback.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class WebForwarderTests(WebRunnerFixture runner) : IClassFixture<WebRunnerFixture>
{
    [Fact]
    public async Task AspNetApp_WithTheRunnerKey_Answers200WithPathQueryAndForwardingHeadersAsSentAndNoKey()
    {
        var ready = await runner.StartReadyContainerAsync("app");
        using var http = runner.Forwarder(ready.ContainerId);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/headers?x=1&y=a%20b");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Host", "ws--example-web-probes-app.localhost");
        request.Headers.Add("X-Forwarded-Proto", "https");

        using var response = await http.SendAsync(request);
        var seen = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = seen.Split('\n');
        Assert.Equal("GET /headers?x=1&y=a%20b", lines[0]);
        Assert.Contains("X-Forwarded-For: 203.0.113.7", lines);
        Assert.Contains("X-Forwarded-Host: ws--example-web-probes-app.localhost", lines);
        Assert.Contains("X-Forwarded-Proto: https", lines);
        Assert.DoesNotContain(lines, line => line.StartsWith(ApiHeaders.RunnerKey, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(lines, line => line.StartsWith(WebHeaders.ContainerId, StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(WebRunnerFixture.RunnerKey, seen, StringComparison.Ordinal);
        // Announced with this runner's own address and the function's limit.
        Assert.Equal((runner.RunnerUrl, runner.RunnerId, runner.Functions["app"], 4),
            (ready.ForwarderUrl, ready.RunnerId, ready.FunctionId, ready.MaxConcurrentRequests));
    }

    [Fact]
    public async Task AspNetApp_PostBody_StreamedToTheAppAndBack()
    {
        var ready = await runner.StartReadyContainerAsync("app");
        using var http = runner.Forwarder(ready.ContainerId);
        var body = new string('x', 200_000) + "end";

        using var response = await http.PostAsync(new Uri("/echo", UriKind.Relative), new StringContent(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Heartbeat_ReadyServerContainer_ListedWebReadyWithItsLimitAndTheForwardersUrl()
    {
        var ready = await runner.StartReadyContainerAsync("app");

        var beat = await Eventually.ReturnsAsync(
            () => Task.FromResult(runner.Events.Events.OfType<RunnerCapacityReported>()
                .LastOrDefault(r => r.RunnerId == runner.RunnerId && r.Containers.Any(c => c.ContainerId == ready.ContainerId && c.WebReady))),
            report => report is not null, "a heartbeat lists the container as ready for requests");

        var listed = beat!.Containers.Single(c => c.ContainerId == ready.ContainerId);
        Assert.Equal((runner.RunnerUrl, 4, "Running"), (beat.WebForwarderUrl, listed.MaxConcurrentRequests, listed.State));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("a-wrong-key-of-the-same-length-as-the-right-one")]
    public async Task Request_WithoutOrWithAWrongRunnerKey_Is401Problem(string? key)
    {
        var ready = await runner.StartReadyContainerAsync("app");
        using var http = runner.Forwarder(ready.ContainerId, key);

        using var response = await http.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(ApiHeaders.RunnerKey, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_UnknownContainer_Is404ProblemSayingContainerNotFound()
    {
        using var http = runner.Forwarder($"nothing-{Guid.NewGuid():N}");

        using var response = await http.GetAsync(new Uri("/", UriKind.Relative));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Container not found", problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Request_WithoutAContainerHeader_ReachesTheRunnersOwnEndpoints()
    {
        using var http = new HttpClient { BaseAddress = runner.RunnerUrl };

        using var response = await http.GetAsync(new Uri("/alive", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AspNetApp_ServerSentEvents_EachEventArrivesAsItIsWritten()
    {
        var ready = await runner.StartReadyContainerAsync("app");
        using var http = runner.Forwarder(ready.ContainerId);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        // The app writes one event, then waits for the client to go: it can only be read if nothing buffers it.
        using var response = await http.GetAsync(new Uri("/events", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        string? line;
        do
        {
            line = await reader.ReadLineAsync(timeout.Token);
        }
        while (line is not null && !line.StartsWith("data:", StringComparison.Ordinal));

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("data: first", line);
    }

    [Fact]
    public async Task AspNetApp_WebSocketEcho_PassesThroughTheForwarder()
    {
        var ready = await runner.StartReadyContainerAsync("app");
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader(WebHeaders.ContainerId, ready.ContainerId);
        socket.Options.SetRequestHeader(ApiHeaders.RunnerKey, WebRunnerFixture.RunnerKey);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await socket.ConnectAsync(new Uri($"ws://{runner.RunnerUrl.Authority}/ws"), timeout.Token);
        var replies = new List<string>();
        foreach (var message in (string[])["hello", "through the forwarder"])
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
            var buffer = new byte[1024];
            var received = await socket.ReceiveAsync(buffer, timeout.Token);
            replies.Add(Encoding.UTF8.GetString(buffer, 0, received.Count));
        }
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);

        Assert.Equal(["hello", "through the forwarder"], replies);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task Container_DiesMidRequest_Is502ProblemThenItIsGone()
    {
        var ready = await runner.StartReadyContainerAsync("app");
        using var http = runner.Forwarder(ready.ContainerId);

        using var response = await http.GetAsync(new Uri("/die", UriKind.Relative));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var stopped = await Eventually.ReturnsAsync(
            () => Task.FromResult(runner.Events.Events.OfType<ContainerStopped>().FirstOrDefault(e => e.ContainerId == ready.ContainerId)),
            e => e is not null, "the dead container is reported stopped");
        using var after = await http.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("Container failed the request", problem.GetProperty("title").GetString());
        Assert.Equal("Crashed", stopped!.Reason);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Theory]
    [InlineData("port")]
    [InlineData("blocked")]
    public async Task Server_OnAPortInsideItsNamespace_AnswersThroughTheForwarderButNotOnTheNodesLoopback(string function)
    {
        var ready = await runner.StartReadyContainerAsync(function);
        using var http = runner.Forwarder(ready.ContainerId);

        using var response = await http.GetAsync(new Uri("/some/path?q=1", UriKind.Relative));
        using var node = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => node.ConnectAsync(new IPEndPoint(IPAddress.Loopback, 18743)));

        Assert.Equal("bubblewrap", runner.Runner!.Services.GetRequiredService<GpuRunner.Containers.ContainerIsolation>().Launcher.Backend);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{function} /some/path?q=1", await response.Content.ReadAsStringAsync());
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task Server_NeverListens_StartFailsAfterItsStartupTimeoutAndTheContainerGoes()
    {
        var containerId = await runner.StartContainerAsync("silent");

        var stopped = await Eventually.ReturnsAsync(
            () => Task.FromResult(runner.Events.Events.OfType<ContainerStopped>().FirstOrDefault(e => e.ContainerId == containerId)),
            e => e is not null, "the container that never listened is stopped");

        Assert.Equal("StartFailed", stopped!.Reason);
        Assert.DoesNotContain(runner.Events.Events.OfType<WebContainerReady>(), e => e.ContainerId == containerId);
        Assert.False(Directory.Exists(Path.Combine(runner.RuntimeDirectory, "web", containerId)), "its web folder is removed");
    }

    [Fact]
    public async Task StopContainer_ServerClass_ItsExitHookRunsItsFolderGoesAndItIs404()
    {
        var exitsBefore = Directory.GetFiles(runner.Markers, "web-exit-*").Length;
        var ready = await runner.StartReadyContainerAsync("ProbeServer");
        using var http = runner.Forwarder(ready.ContainerId);
        using var served = await http.GetAsync(new Uri("/", UriKind.Relative));

        await runner.StopContainerAsync(ready.ContainerId);
        var stopped = await Eventually.ReturnsAsync(
            () => Task.FromResult(runner.Events.Events.OfType<ContainerStopped>().FirstOrDefault(e => e.ContainerId == ready.ContainerId)),
            e => e is not null, "the server container stops");
        using var after = await http.GetAsync(new Uri("/", UriKind.Relative));

        Assert.Equal("class /", await served.Content.ReadAsStringAsync());
        Assert.Equal("ScaledDown", stopped!.Reason);
        Assert.Equal(exitsBefore + 1, Directory.GetFiles(runner.Markers, "web-exit-*").Length);
        Assert.False(Directory.Exists(Path.Combine(runner.RuntimeDirectory, "web", ready.ContainerId)), "its web folder is removed");
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task ProcessBackend_AspNetAppOnItsHostSocketAndServerOnTheNodesLoopback_BothAnswer()
    {
        // No isolation (degraded): the app's socket is the host path itself and the server shares the node's network.
        var runnerId = $"webproc-{Guid.NewGuid():N}"[..16];
        await using var plain = runner.StartRunner(runnerId, ("GpuRunner:ContainerBackend", "process"));
        var plainUrl = plain.CreateClient().BaseAddress!;
        await WebRunnerFixture.WaitUntilConsumingAsync(plain);

        var app = await runner.StartReadyContainerAsync("app", runnerId);
        var server = await runner.StartReadyContainerAsync("port", runnerId);
        using var appHttp = runner.Forwarder(app.ContainerId, runnerUrl: plainUrl);
        using var serverHttp = runner.Forwarder(server.ContainerId, runnerUrl: plainUrl);
        using var fromApp = await appHttp.GetAsync(new Uri("/", UriKind.Relative));
        using var fromServer = await serverHttp.GetAsync(new Uri("/plain", UriKind.Relative));

        Assert.Equal(plainUrl, app.ForwarderUrl);
        Assert.Equal("hello from the probes' app", await fromApp.Content.ReadAsStringAsync());
        Assert.Equal("port /plain", await fromServer.Content.ReadAsStringAsync());
    }
}
