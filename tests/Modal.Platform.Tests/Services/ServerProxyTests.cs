using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using MassTransit;
using Microsoft.AspNetCore.Mvc.Testing;
using Modal.Api;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Web;
using Modal.Contracts.Containers;
using Modal.Contracts.Runners;
using Modal.Contracts.Web;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// The ingress's server path on real PostgreSQL and RabbitMQ: the routing table fed by bus events and heartbeats, the
/// proxy to a runner's web forwarder (here <see cref="FakeWebForwarder"/>, a real Kestrel on loopback checking the runner
/// key and container id), slots, waiting, 503 and 502, demand reports, streaming and WebSockets.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class ServerProxyTests(InfrastructureFixture infrastructure)
{
    private const string RunnerKey = "runner-key-of-the-ingress-tests-0123456789";

    private sealed class Setup(ServiceFactory<ApiOptions> api, FakeWebForwarder forwarder, IBusControl bus, string app, Guid functionId) : IAsyncDisposable
    {
        public ServiceFactory<ApiOptions> Api { get; } = api;
        public FakeWebForwarder Forwarder { get; } = forwarder;
        public string App { get; } = app;
        public Guid FunctionId { get; } = functionId;
        public HttpClient Web { get; } = api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        public Uri Path(string rest) => new($"/web/main--{App}-server{rest}", UriKind.Relative);

        public Task ReadyAsync(string containerId, int maxConcurrentRequests = 4, string runnerId = "fake-runner") =>
            bus.Publish(new WebContainerReady
            {
                ContainerId = containerId, RunnerId = runnerId, FunctionId = FunctionId, ForwarderUrl = Forwarder.Url,
                MaxConcurrentRequests = maxConcurrentRequests, ReadyAt = DateTimeOffset.UtcNow,
            });

        public Task PublishAsync<T>(T message) where T : class => bus.Publish(message);

        public async ValueTask DisposeAsync()
        {
            await bus.StopAsync();
            await Forwarder.DisposeAsync();
            await Api.DisposeAsync();
        }
    }

    private async Task<Setup> StartAsync(params (string, string)[] settings)
    {
        var forwarder = await FakeWebForwarder.StartAsync(RunnerKey);
        var api = new ServiceFactory<ApiOptions>([("Api:RunnerKey", RunnerKey), ("Ingress:ColdStartWait", "00:00:05"), .. settings]);
        var client = infrastructure.AuthenticatedClient(api);
        // Healthy once its bus endpoints (the ingress's own queue among them) are up: events published now reach it.
        await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(client), report => report.Status == "Healthy", "the Api reports healthy");
        var app = $"srv-{Guid.NewGuid():N}"[..16];
        using var deployed = await client.PutAsJsonAsync(new Uri($"/v1/apps/{app}", UriKind.Relative),
            new { functions = new[] { WebFunctionTests.Manifest("server", [], "System.Void", kind: WebEndpointKinds.AspNetApp) } });
        Assert.True(deployed.IsSuccessStatusCode, await deployed.Content.ReadAsStringAsync());
        var functionId = (await deployed.Content.ReadFromJsonAsync<DeployedAppInfo>())!.Functions.Single().Id;
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(new Uri(infrastructure.RabbitMqConnectionString)));
        await bus.StartAsync();
        return new Setup(api, forwarder, bus, app, functionId);
    }

    private static Task<HttpResponseMessage> UntilServedAsync(Func<Task<HttpResponseMessage>> send) =>
        Eventually.ReturnsAsync(send, response => response.StatusCode == HttpStatusCode.OK, "the container is routed");

    [Fact]
    public async Task Request_ReadyContainer_ProxiedWithTheRunnerKeyContainerAndForwardedHeaders()
    {
        await using var setup = await StartAsync();
        await setup.ReadyAsync("ct-one");

        using var response = await UntilServedAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Post, setup.Path("/hello/world?q=1&r=2")) { Content = new StringContent("body!") };
            request.Headers.Add(WebHeaders.ProxyKey, "wk-whatever");
            request.Headers.Add(ApiHeaders.RunnerKey, "a client's own try");
            return setup.Web.SendAsync(request);
        });
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("ct-one", echo.Container);
        Assert.Equal("POST", echo.Method);
        Assert.Equal("/hello/world", echo.Path);
        Assert.Equal("?q=1&r=2", echo.Query);
        Assert.Equal("body!", echo.Body);
        Assert.Equal($"/web/main--{setup.App}-server", echo.ForwardedPrefix);
        Assert.Equal("http", echo.ForwardedProto);
        Assert.Equal("localhost", echo.ForwardedHost);
        Assert.False(echo.SawProxyKey);
    }

    [Fact]
    public async Task Request_HostForm_ReachesTheServer()
    {
        await using var setup = await StartAsync();
        await setup.ReadyAsync("ct-host");

        using var response = await UntilServedAsync(() => setup.Web.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri("/x", UriKind.Relative))
        {
            Headers = { Host = $"main--{setup.App}-server.modal.localhost" },
        }));
        var echo = await Echo.ReadAsync(response);

        Assert.Equal("/x", echo.Path);
        Assert.Equal($"main--{setup.App}-server.modal.localhost", echo.ForwardedHost);
        Assert.Equal("", echo.ForwardedPrefix);
    }

    [Fact]
    public async Task Request_NoContainer_WaitsThen503WithRetryAfterAndReportsDemandAtOnce()
    {
        await using var events = await BusEventRecorder.StartAsync<WebEndpointDemand, WebContainerReady>(infrastructure.RabbitMqConnectionString);
        await using var setup = await StartAsync(("Ingress:ColdStartWait", "00:00:01.500"));

        using var response = await setup.Web.GetAsync(setup.Path("/"));
        var demand = await Eventually.ReturnsAsync(() => Task.FromResult(events.Events.OfType<WebEndpointDemand>().Where(d => d.FunctionId == setup.FunctionId).ToList()),
            reports => reports.Any(r => r.Waiting == 0), "demand falls back to zero");

        await WebFunctionTests.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "No container");
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Equal(1, demand.First().Waiting);
        Assert.Equal(0, demand.First().InFlight);
    }

    [Fact]
    public async Task Request_WaitingForAContainer_IsServedWhenOneBecomesReady()
    {
        await using var setup = await StartAsync();

        var waiting = setup.Web.GetAsync(setup.Path("/cold"));
        await Task.Delay(500);
        await setup.ReadyAsync("ct-late");
        using var response = await waiting;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ct-late", (await Echo.ReadAsync(response)).Container);
    }

    [Fact]
    public async Task Requests_MoreThanTheLimit_WaitForASlotAndNoContainerTakesMoreThanItsLimit()
    {
        await using var setup = await StartAsync();
        await setup.ReadyAsync("ct-a", maxConcurrentRequests: 1);
        await setup.ReadyAsync("ct-b", maxConcurrentRequests: 2);
        using (await UntilServedAsync(() => setup.Web.GetAsync(setup.Path("/warm")))) { }

        var responses = await Task.WhenAll(Enumerable.Range(0, 9).Select(_ => setup.Web.GetAsync(setup.Path("/slow"))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, setup.Forwarder.MaxConcurrent["ct-a"]);
        Assert.Equal(2, setup.Forwarder.MaxConcurrent["ct-b"]);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task Request_ContainerItsRunnerNoLongerHas_IsDroppedAndAnotherServes()
    {
        await using var setup = await StartAsync();
        setup.Forwarder.Gone["ct-gone"] = true;
        await setup.ReadyAsync("ct-good");
        using (await UntilServedAsync(() => setup.Web.GetAsync(setup.Path("/warm")))) { }
        await setup.ReadyAsync("ct-gone");
        await Task.Delay(500); // The ready event is consumed.

        var containers = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await setup.Web.GetAsync(setup.Path("/"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            containers.Add((await Echo.ReadAsync(response)).Container);
        }
        using var appNotFound = await setup.Web.GetAsync(setup.Path("/app-404"));

        Assert.All(containers, c => Assert.Equal("ct-good", c));
        Assert.Equal(HttpStatusCode.NotFound, appNotFound.StatusCode);
        Assert.Equal("the app's own 404", await appNotFound.Content.ReadAsStringAsync());
        Assert.Equal(6, setup.Forwarder.Served["ct-good"]);
    }

    [Fact]
    public async Task Request_ContainerDiesMidRequest_Answers502Problem()
    {
        await using var setup = await StartAsync();
        await setup.ReadyAsync("ct-dying");
        using (await UntilServedAsync(() => setup.Web.GetAsync(setup.Path("/warm")))) { }

        using var response = await setup.Web.GetAsync(setup.Path("/die"));

        await WebFunctionTests.AssertProblemAsync(response, HttpStatusCode.BadGateway, "ct-dying");
    }

    [Fact]
    public async Task Request_AfterContainerStoppedOrLeftTheHeartbeat_IsNotRoutedThere()
    {
        await using var setup = await StartAsync(("Ingress:ColdStartWait", "00:00:01"));
        await setup.ReadyAsync("ct-stopping", runnerId: "runner-a");
        using (await UntilServedAsync(() => setup.Web.GetAsync(setup.Path("/warm")))) { }
        await setup.PublishAsync(new ContainerStopped
        {
            ContainerId = "ct-stopping", RunnerId = "runner-a", FunctionId = setup.FunctionId, Reason = "ScaledDown", StoppedAt = DateTimeOffset.UtcNow,
        });
        using var afterStop = await Eventually.ReturnsAsync(() => setup.Web.GetAsync(setup.Path("/")),
            r => r.StatusCode == HttpStatusCode.ServiceUnavailable, "the stopped container leaves the table");

        await setup.PublishAsync(Heartbeat("runner-b", setup, ("ct-beat", true)));
        using var viaHeartbeat = await UntilServedAsync(() => setup.Web.GetAsync(setup.Path("/")));
        var servedBy = (await Echo.ReadAsync(viaHeartbeat)).Container;
        await setup.PublishAsync(Heartbeat("runner-b", setup));
        using var afterHeartbeat = await Eventually.ReturnsAsync(() => setup.Web.GetAsync(setup.Path("/")),
            r => r.StatusCode == HttpStatusCode.ServiceUnavailable, "a container its runner no longer lists leaves the table");

        Assert.Equal("ct-beat", servedBy);
    }

    private static RunnerCapacityReported Heartbeat(string runnerId, Setup setup, params (string Id, bool WebReady)[] containers) => new()
    {
        RunnerId = runnerId, Gpus = [], CpuCores = 4, MemoryMiB = 4096, ReportedAt = DateTimeOffset.UtcNow, WebForwarderUrl = setup.Forwarder.Url,
        Containers = containers.Select(c => new RunnerContainer
        {
            ContainerId = c.Id, FunctionId = setup.FunctionId, RunningInputs = 0, LastBusyAt = DateTimeOffset.UtcNow, State = "Running",
            WebReady = c.WebReady, MaxConcurrentRequests = 4,
        }).ToList(),
    };

    [Fact]
    public async Task ServerSentEvents_StreamThroughBeforeTheResponseEnds()
    {
        await using var setup = await StartAsync();
        await setup.ReadyAsync("ct-stream");
        using (await UntilServedAsync(() => setup.Web.GetAsync(setup.Path("/warm")))) { }

        using var response = await setup.Web.GetAsync(setup.Path("/events"), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();
        setup.Forwarder.SecondEvent.SetResult();
        var rest = await reader.ReadToEndAsync();

        Assert.Equal("data: one", first);
        Assert.Contains("data: two", rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebSocket_EchoesThroughTheIngress()
    {
        var forwarder = await FakeWebForwarder.StartAsync(RunnerKey);
        await using var _ = forwarder;
        await using var api = new ServiceFactory<ApiOptions>(("Api:RunnerKey", RunnerKey));
        // On a real port: a WebSocket upgrade needs a real connection to the ingress.
        api.UseKestrel(0);
        api.StartServer();
        var client = infrastructure.AuthenticatedClient(api);
        await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(client), report => report.Status == "Healthy", "the Api reports healthy");
        var app = $"ws-{Guid.NewGuid():N}"[..16];
        using var deployed = await client.PutAsJsonAsync(new Uri($"/v1/apps/{app}", UriKind.Relative),
            new { functions = new[] { WebFunctionTests.Manifest("server", [], "System.Void", kind: WebEndpointKinds.AspNetApp) } });
        var functionId = (await deployed.Content.ReadFromJsonAsync<DeployedAppInfo>())!.Functions.Single().Id;
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(new Uri(infrastructure.RabbitMqConnectionString)));
        await bus.StartAsync();
        try
        {
            await bus.Publish(new WebContainerReady
            {
                ContainerId = "ct-ws", RunnerId = "fake-runner", FunctionId = functionId, ForwarderUrl = forwarder.Url, MaxConcurrentRequests = 4,
                ReadyAt = DateTimeOffset.UtcNow,
            });
            var web = new Uri(client.BaseAddress!, $"/web/main--{app}-server/");
            using (await UntilServedAsync(() => client.GetAsync(web))) { }

            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(new UriBuilder(new Uri(web, "ws")) { Scheme = "ws" }.Uri, CancellationToken.None);
            await socket.SendAsync(Encoding.UTF8.GetBytes("ping through the ingress"), WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[1024];
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);

            Assert.Equal("ping through the ingress", Encoding.UTF8.GetString(buffer, 0, received.Count));
        }
        finally
        {
            await bus.StopAsync();
        }
    }
}
