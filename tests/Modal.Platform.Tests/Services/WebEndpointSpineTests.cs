using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Modal.Api;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Web;
using Modal.Deployment;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;
using Modal.Rest;
using Modal.Scheduler;
using Modal.Storage;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Storage, Api (on a real port), Scheduler and a GpuRunner on the real infrastructure, with examples/HelloWorld's
/// functions deployed as web functions (a hand-written <c>Web</c> in their manifests): a plain HTTP client's request
/// becomes a call that runs in a real container.
/// </summary>
public sealed class WebEndpointSpineFixture : IAsyncLifetime
{
    public ServiceFactory<StorageOptions> Storage { get; } = new();
    public ServiceFactory<ApiOptions>? Api { get; private set; }
    public ServiceFactory<GpuRunnerOptions>? Runner { get; private set; }
    public ServiceFactory<SchedulerOptions>? Scheduler { get; private set; }
    public ModalClient Client { get; private set; } = null!;
    public HttpClient Anonymous { get; } = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false });
    public string App { get; } = $"web-hello-{Guid.NewGuid():N}"[..20];
    public DeployedAppInfo Deployed { get; private set; } = null!;
    private readonly string _runnerRoot = Path.Combine(Path.GetTempPath(), $"modal-runner-{Guid.NewGuid():N}"[..24]);

    public async Task InitializeAsync()
    {
        var storageHttp = Storage.CreateClient();
        Api = new ServiceFactory<ApiOptions>(("Api:StorageUrl", storageHttp.BaseAddress!.ToString()))
        {
            ConfigureServices = services =>
            {
                services.AddSingleton<IForwarderHttpClientFactory>(new TestServerForwarderFactory(Storage.Server));
                services.AddHttpClient("storage").ConfigurePrimaryHttpMessageHandler(() => Storage.Server.CreateHandler());
            },
        };
        Api.UseKestrel(0);
        Api.StartServer();
        var apiHttp = Api.CreateClient();
        var (id, secret) = InfrastructureFixture.ReadTokenFile(Environment.GetEnvironmentVariable("Api__FirstTokenFile")!);
        apiHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{id}:{secret}");
        Client = new ModalClient(apiHttp);
        Anonymous.BaseAddress = apiHttp.BaseAddress;

        Runner = new ServiceFactory<GpuRunnerOptions>(
            ("GpuRunner:RunnerId", $"web-{Guid.NewGuid():N}"[..16]),
            ("GpuRunner:StorageUrl", storageHttp.BaseAddress!.ToString()),
            ("GpuRunner:ApiUrl", apiHttp.BaseAddress!.ToString()),
            ("GpuRunner:CacheDirectory", Path.Combine(_runnerRoot, "cache")),
            ("GpuRunner:RuntimeDirectory", Path.Combine(_runnerRoot, "run")))
        {
            ConfigureServices = services => services.AddHttpClient("storage").ConfigurePrimaryHttpMessageHandler(() => Storage.Server.CreateHandler()),
        };
        Scheduler = new ServiceFactory<SchedulerOptions>(("Scheduler:ScalingInterval", "00:00:00.250"));
        _ = Scheduler.CreateClient();

        // What `modal deploy` does, with HelloWorld's functions marked as web functions as the SDK's WebEndpoint option would.
        var output = Examples.OutputDirectory("HelloWorld");
        var bundle = await Bundle.FromDirectoryAsync(output, "HelloWorld.dll");
        await BundleUploader.UploadAsync(bundle, Client.Http);
        var manifest = await AppDescriber.DescribeAsync(Path.Combine(output, "HelloWorld.dll"));
        var functions = manifest.Functions.Select(f => f.Name switch
        {
            "f" => f with { Web = new WebEndpointManifest(WebEndpointKinds.Function, ["GET"]) },
            "sleep" => f with { Web = new WebEndpointManifest(WebEndpointKinds.Function, ["POST"], Label: "nap") },
            "fail" => f with { Web = new WebEndpointManifest(WebEndpointKinds.Function, ["GET"]) },
            _ => f,
        }).ToList();
        Deployed = await Client.Apps.DeployAsync(App, new DeployAppRequest(functions, bundle.Id));
        _ = Runner.CreateClient();
    }

    public Uri Endpoint(string label, string rest = "") => new($"/web/main--{App}-{label}/{rest}", UriKind.Relative);

    public async Task DisposeAsync()
    {
        Anonymous.Dispose();
        if (Runner is not null)
        {
            await Runner.DisposeAsync();
        }
        if (Scheduler is not null)
        {
            await Scheduler.DisposeAsync();
        }
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }
        await Storage.DisposeAsync();
        if (Directory.Exists(_runnerRoot))
        {
            Directory.Delete(_runnerRoot, recursive: true);
        }
    }
}

[Collection(InfrastructureTestGroup.Name)]
public sealed class WebEndpointSpineTests(WebEndpointSpineFixture spine) : IClassFixture<WebEndpointSpineFixture>
{
    [Fact]
    public async Task Get_TypedQuery_RunsInAContainerAndAnswersJson()
    {
        using var response = await spine.Anonymous.GetAsync(spine.Endpoint("f", "?i=7"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(49, await response.Content.ReadFromJsonAsync<int>());
        var callId = response.Headers.GetValues(WebHeaders.FunctionCallId).Single();
        var logs = await Eventually.ReturnsAsync(() => spine.Client.Http.GetStringAsync(new Uri($"/v1/calls/{callId}/logs", UriKind.Relative)),
            text => text.Contains("world 7", StringComparison.Ordinal), "the call's log has what it printed");
        Assert.Contains("world 7", logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_JsonBody_RunsInAContainerAtTheLabelsUrl()
    {
        using var response = await spine.Anonymous.PostAsJsonAsync(spine.Endpoint("nap"), new { milliseconds = 20 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(20, await response.Content.ReadFromJsonAsync<int>());
    }

    [Fact]
    public async Task Get_FunctionThrows_Answers500ProblemWithTheRemoteType()
    {
        using var response = await spine.Anonymous.GetAsync(spine.Endpoint("fail", "?message=broken"));

        await WebFunctionTests.AssertProblemAsync(response, HttpStatusCode.InternalServerError, "broken");
    }

    [Fact]
    public async Task Get_BadQuery_Answers400BeforeAnythingRuns()
    {
        using var response = await spine.Anonymous.GetAsync(spine.Endpoint("f", "?i=seven"));

        await WebFunctionTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, "Query parameter 'i'");
    }

    [Fact]
    public async Task DeployedApp_ListsItsWebUrls()
    {
        var f = spine.Deployed.Functions.Single(x => x.Name == "f");

        Assert.Equal($"http://main--{spine.App}-f.modal.localhost:{spine.Anonymous.BaseAddress!.Port}/", f.WebUrl);
        Assert.Null(spine.Deployed.Functions.Single(x => x.Name == "produce").WebUrl);
    }
}
