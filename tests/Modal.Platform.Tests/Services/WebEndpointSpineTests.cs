using System.Net;
using System.Net.Http.Json;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Web;
using Modal.Deployment;
using Modal.Platform.Tests.Infrastructure;
using Modal.Rest;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Storage, Api (on a real port), Scheduler and a GpuRunner on the real infrastructure, with examples/HelloWorld's
/// functions deployed as web functions (a hand-written <c>Web</c> in their manifests): a plain HTTP client's request
/// becomes a call that runs in a real container.
/// </summary>
public sealed class WebEndpointSpineFixture : IAsyncLifetime
{
    // A property, not a field, so CA1001 does not ask for IDisposable: IAsyncLifetime.DisposeAsync disposes it.
    private PlatformServices Platform { get; } = new("modal-runner-");

    public ModalClient Client => Platform.Client;
    public HttpClient Anonymous { get; } = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false });
    public string App { get; } = $"web-hello-{Guid.NewGuid():N}"[..20];
    public DeployedAppInfo Deployed { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Platform.Start();
        Anonymous.BaseAddress = Platform.ApiHttp.BaseAddress;

        var runner = Platform.AddRunner($"web-{Guid.NewGuid():N}"[..16], Platform.Root);
        Platform.StartScheduler(("Scheduler:ScalingInterval", "00:00:00.250"));

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
        _ = runner.CreateClient();
    }

    public Uri Endpoint(string label, string rest = "") => new($"/web/main--{App}-{label}/{rest}", UriKind.Relative);

    public async Task DisposeAsync()
    {
        Anonymous.Dispose();
        await Platform.DisposeAsync();
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
