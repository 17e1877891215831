using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Mvc.Testing;
using Modal.Api;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Web;
using Modal.Contracts.Calls;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Web functions through the Api's ingress on real PostgreSQL, Redis and RabbitMQ, a test bus standing in for the
/// runner (the same call path a container's runner serves; <see cref="WebEndpointSpineTests"/> runs real containers):
/// typed binding, 303 after the configured timeout, CORS, and every bad input.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class WebFunctionTests(InfrastructureFixture infrastructure)
{
    internal static object Manifest(string name, (string Name, string Type)[] parameters, string resultType = "System.Int32",
        string[]? methods = null, bool requiresProxyAuth = false, string? label = null, string kind = WebEndpointKinds.Function) => new
    {
        name,
        parameters = parameters.Select(p => new { name = p.Name, type = p.Type }).ToArray(),
        resultType,
        timeoutSeconds = 30,
        web = new { kind, methods = methods ?? (kind == WebEndpointKinds.Function ? ["GET"] : []), label, requiresProxyAuth },
    };

    private static readonly object Square = Manifest("square", [("x", "System.Int32")]);
    private static readonly object Greet = Manifest("greet", [("name", "System.String"), ("times", "System.Int32"), ("loud", "System.Boolean")],
        "System.String", methods: ["POST"]);
    private static readonly object Sum = Manifest("sum", [("values", "System.Int32[]"), ("scale", "System.Double")], "System.Double", label: "adder");
    private static readonly object Page = Manifest("page", [("name", "System.String")], "Modal.WebResponse");
    private static readonly object Guarded = Manifest("guarded", [("x", "System.Int32")], requiresProxyAuth: true);
    private static readonly object Boom = Manifest("boom", []);
    private static readonly object Plain = new { name = "plain", parameters = Array.Empty<object>(), resultType = "System.Int32", timeoutSeconds = 30 };

    /// <summary>A stand-in runner for every function of <paramref name="app"/>: each input's result is what <paramref name="run"/> makes of its name and arguments.</summary>
    private async Task<IAsyncDisposable> RunnerAsync(DeployedAppInfo app, Func<string, JsonElement, Task<string>> run)
    {
        var runners = new List<TestRunnerBus>();
        foreach (var function in app.Functions)
        {
            runners.Add(await TestRunnerBus.StartAsync(infrastructure.RabbitMqConnectionString, function.Id, async input =>
            {
                using var arguments = JsonDocument.Parse(input.Message.ArgumentsJson);
                try
                {
                    var result = await run(function.Name, arguments.RootElement);
                    await input.Publish(new FunctionCallSucceeded
                    {
                        FunctionCallId = input.Message.FunctionCallId, Attempt = input.Message.Attempt, ResultJson = result, CompletedAt = DateTimeOffset.UtcNow,
                    });
                }
                catch (InvalidOperationException e)
                {
                    await input.Publish(new FunctionCallFailed
                    {
                        FunctionCallId = input.Message.FunctionCallId, Attempt = input.Message.Attempt, ExceptionType = e.GetType().FullName!,
                        Message = e.Message, StackTrace = "", WillRetry = false, FailedAt = DateTimeOffset.UtcNow,
                    });
                }
            }));
        }
        return new Runners(runners);
    }

    private sealed class Runners(List<TestRunnerBus> runners) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var runner in runners)
            {
                await runner.DisposeAsync();
            }
        }
    }

    private static Task<string> Answer(string function, JsonElement arguments) => function switch
    {
        "square" => Task.FromResult($"{arguments.GetProperty("x").GetInt32() * arguments.GetProperty("x").GetInt32()}"),
        "greet" => Task.FromResult(JsonSerializer.Serialize(string.Concat(Enumerable.Repeat(
            arguments.GetProperty("loud").GetBoolean() ? $"HELLO {arguments.GetProperty("name").GetString()!.ToUpperInvariant()}!" : $"hello {arguments.GetProperty("name").GetString()}",
            arguments.GetProperty("times").GetInt32())))),
        "sum" => Task.FromResult(JsonSerializer.Serialize(arguments.GetProperty("values").EnumerateArray().Sum(v => v.GetInt32()) * arguments.GetProperty("scale").GetDouble())),
        "page" => Task.FromResult(JsonSerializer.Serialize(new
        {
            statusCode = 201, body = $"<h1>{arguments.GetProperty("name").GetString()}</h1>", contentType = "text/html; charset=utf-8",
            headers = new Dictionary<string, string> { ["X-Page"] = "yes" },
        })),
        "guarded" => Task.FromResult($"{arguments.GetProperty("x").GetInt32() + 1}"),
        "boom" => throw new InvalidOperationException("it went boom"),
        _ => throw new InvalidOperationException($"no such function {function}"),
    };

    private static async Task<DeployedAppInfo> DeployAsync(HttpClient client, string app, params object[] functions)
    {
        using var response = await client.PutAsJsonAsync(new Uri($"/v1/apps/{app}", UriKind.Relative), new { functions });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<DeployedAppInfo>())!;
    }

    private static string UniqueAppName() => $"web-{Guid.NewGuid():N}"[..16];

    private static Uri Path(string app, string function, string rest = "/") => new($"/web/main--{app}-{function}{rest}", UriKind.Relative);

    private static ServiceFactory<ApiOptions> Api(params (string, string)[] settings) => new(settings);

    private static HttpClient Anonymous(ServiceFactory<ApiOptions> api) => api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    [Fact]
    public async Task Get_TypedQuery_Returns200JsonWithTheCallId()
    {
        await using var api = Api();
        var app = UniqueAppName();
        var deployed = await DeployAsync(infrastructure.AuthenticatedClient(api), app, Square);
        await using var runner = await RunnerAsync(deployed, Answer);
        var web = Anonymous(api);

        using var response = await web.GetAsync(Path(app, "square", "/?x=7"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("49", await response.Content.ReadAsStringAsync());
        Assert.StartsWith("fc-", response.Headers.GetValues(WebHeaders.FunctionCallId).Single(), StringComparison.Ordinal);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task Get_HostForm_ReachesTheSameEndpoint()
    {
        await using var api = Api();
        var app = UniqueAppName();
        var deployed = await DeployAsync(infrastructure.AuthenticatedClient(api), app, Square);
        await using var runner = await RunnerAsync(deployed, Answer);
        var web = Anonymous(api);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/?x=5", UriKind.Relative));
        request.Headers.Host = $"MAIN--{app}-square.modal.localhost:8080";

        using var response = await web.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("25", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Post_JsonBodyAndQuery_BindsBoth()
    {
        await using var api = Api();
        var app = UniqueAppName();
        var deployed = await DeployAsync(infrastructure.AuthenticatedClient(api), app, Greet);
        await using var runner = await RunnerAsync(deployed, Answer);
        var web = Anonymous(api);

        using var response = await web.PostAsJsonAsync(Path(app, "greet", "?loud=true"), new { name = "Ada", times = 2 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("HELLO ADA!HELLO ADA!", await response.Content.ReadFromJsonAsync<string>());
    }

    [Fact]
    public async Task Get_RepeatedKeysAndLabel_BindAnArrayAtTheLabelsHost()
    {
        await using var api = Api();
        var app = UniqueAppName();
        var deployed = await DeployAsync(infrastructure.AuthenticatedClient(api), app, Sum);
        await using var runner = await RunnerAsync(deployed, Answer);
        var web = Anonymous(api);

        using var response = await web.GetAsync(Path(app, "adder", "?values=1&values=2&values=3&scale=0.5"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3.0, await response.Content.ReadFromJsonAsync<double>());
    }

    [Fact]
    public async Task Get_WebResponseResult_WritesItsStatusBodyAndHeadersRaw()
    {
        await using var api = Api();
        var app = UniqueAppName();
        var deployed = await DeployAsync(infrastructure.AuthenticatedClient(api), app, Page);
        await using var runner = await RunnerAsync(deployed, Answer);
        var web = Anonymous(api);

        using var response = await web.GetAsync(Path(app, "page", "?name=Ada"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("<h1>Ada</h1>", await response.Content.ReadAsStringAsync());
        Assert.Equal("yes", response.Headers.GetValues("X-Page").Single());
    }

    [Fact]
    public async Task Get_SlowerThanTheTimeout_Answers303ThenTheResultUrlAnswersTheResult()
    {
        await using var api = Api(("Ingress:WebFunctionTimeout", "00:00:00.500"));
        var app = UniqueAppName();
        var deployed = await DeployAsync(infrastructure.AuthenticatedClient(api), app, Square);
        var release = new TaskCompletionSource();
        await using var runner = await RunnerAsync(deployed, async (name, arguments) =>
        {
            await release.Task;
            return await Answer(name, arguments);
        });
        var web = Anonymous(api);

        using var first = await web.GetAsync(Path(app, "square", "?x=9"));
        var callId = first.Headers.GetValues(WebHeaders.FunctionCallId).Single();
        using var again = await web.GetAsync(first.Headers.Location);
        release.SetResult();
        using var done = await Eventually.ReturnsAsync(() => web.GetAsync(first.Headers.Location), r => r.StatusCode == HttpStatusCode.OK, "the result is ready");

        Assert.Equal(HttpStatusCode.SeeOther, first.StatusCode);
        Assert.Equal($"/web/main--{app}-square/__modal/results/{callId}", first.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.SeeOther, again.StatusCode);
        Assert.Equal("81", await done.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Get_FunctionThrows_Returns500ProblemWithTheErrorType()
    {
        await using var api = Api();
        var app = UniqueAppName();
        var deployed = await DeployAsync(infrastructure.AuthenticatedClient(api), app, Boom);
        await using var runner = await RunnerAsync(deployed, Answer);

        using var response = await Anonymous(api).GetAsync(Path(app, "boom"));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadAsStringAsync();
        Assert.Contains("System.InvalidOperationException", problem, StringComparison.Ordinal);
        Assert.Contains("it went boom", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Preflight_AnsweredWithCorsHeaders()
    {
        await using var api = Api();
        var app = UniqueAppName();
        await DeployAsync(infrastructure.AuthenticatedClient(api), app, Greet);
        using var request = new HttpRequestMessage(HttpMethod.Options, Path(app, "greet"));
        request.Headers.Add("Origin", "https://example.com");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type");

        using var response = await Anonymous(api).SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);
        Assert.Equal("content-type", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
    }

    [Fact]
    public async Task BadInputs_AnswerProblemsNamingWhatIsWrong()
    {
        await using var api = Api(("Ingress:RequestBodyLimit", "1024"));
        var app = UniqueAppName();
        var deployed = await DeployAsync(infrastructure.AuthenticatedClient(api), app, Square, Greet, Plain);
        var web = Anonymous(api);

        using var unknown = await web.GetAsync(Path(app, "nothing", "?x=1"));
        using var notWeb = await web.GetAsync(Path(app, "plain"));
        using var unknownHost = await web.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri("/", UriKind.Relative))
        {
            Headers = { Host = "nobody--nothing-here.modal.localhost" },
        });
        using var wrongMethod = await web.PostAsJsonAsync(Path(app, "square"), new { x = 1 });
        using var notAnInt = await web.GetAsync(Path(app, "square", "?x=abc"));
        using var missing = await web.GetAsync(Path(app, "square"));
        using var twice = await web.GetAsync(Path(app, "square", "?x=1&x=2"));
        using var wrongType = await web.PostAsJsonAsync(Path(app, "greet"), new { name = "Ada", times = "two", loud = false });
        using var both = await web.PostAsJsonAsync(Path(app, "greet", "?name=Bob"), new { name = "Ada", times = 1, loud = false });
        using var extra = await web.PostAsJsonAsync(Path(app, "greet"), new { name = "Ada", times = 1, loud = false, colour = "red" });
        using var tooLarge = await web.PostAsJsonAsync(Path(app, "greet"), new { name = new string('a', 2000), times = 1, loud = false });
        using var notJson = await web.PostAsync(Path(app, "greet"), new StringContent("name=Ada", Encoding.UTF8, "application/x-www-form-urlencoded"));
        using var brokenJson = await web.PostAsync(Path(app, "greet"), new StringContent("{\"name\":", Encoding.UTF8, "application/json"));
        using var array = await web.PostAsync(Path(app, "greet"), new StringContent("[1,2]", Encoding.UTF8, "application/json"));
        using var otherPath = await web.GetAsync(Path(app, "square", "/elsewhere?x=1"));

        await AssertProblemAsync(unknown, HttpStatusCode.NotFound, $"main--{app}-nothing");
        await AssertProblemAsync(notWeb, HttpStatusCode.NotFound, "web endpoint");
        await AssertProblemAsync(unknownHost, HttpStatusCode.NotFound, "nobody--nothing-here.modal.localhost");
        await AssertProblemAsync(wrongMethod, HttpStatusCode.MethodNotAllowed, "answers GET, not POST");
        Assert.Contains("GET", wrongMethod.Content.Headers.Allow);
        await AssertProblemAsync(notAnInt, HttpStatusCode.BadRequest, "Query parameter 'x' must be a whole number (a System.Int32), not 'abc'");
        await AssertProblemAsync(missing, HttpStatusCode.BadRequest, "Missing argument 'x'");
        await AssertProblemAsync(twice, HttpStatusCode.BadRequest, "'x' is given 2 times");
        await AssertProblemAsync(wrongType, HttpStatusCode.BadRequest, "Argument 'times' must be a System.Int32");
        await AssertProblemAsync(both, HttpStatusCode.BadRequest, "'name' is given both in the query string and in the body");
        await AssertProblemAsync(extra, HttpStatusCode.BadRequest, "no parameter named 'colour'");
        await AssertProblemAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge, "limited to 1,024 bytes");
        await AssertProblemAsync(notJson, HttpStatusCode.UnsupportedMediaType, "application/x-www-form-urlencoded");
        await AssertProblemAsync(brokenJson, HttpStatusCode.BadRequest, "not valid JSON");
        await AssertProblemAsync(array, HttpStatusCode.BadRequest, "not a JSON Array");
        await AssertProblemAsync(otherPath, HttpStatusCode.NotFound, "'/elsewhere'");
        Assert.NotNull(deployed);
    }

    [Fact]
    public async Task ProxyAuth_RequiredEndpoint_Refuses401WithoutAValidTokenAndServesWithOne()
    {
        await using var api = Api();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();
        var deployed = await DeployAsync(client, app, Guarded);
        await using var runner = await RunnerAsync(deployed, Answer);
        using var created = await client.PostAsJsonAsync(new Uri("/v1/proxy-tokens", UriKind.Relative), new CreateProxyTokenRequest("web test"));
        var token = (await created.Content.ReadFromJsonAsync<ProxyTokenInfo>())!;
        var web = Anonymous(api);

        using var without = await web.GetAsync(Path(app, "guarded", "?x=1"));
        using var wrong = await SendWithKeyAsync(web, Path(app, "guarded", "?x=1"), token.Id, "ws-00000000000000000000000000000000");
        using var workspaceToken = await SendWithKeyAsync(web, Path(app, "guarded", "?x=1"), infrastructure.ReadFirstToken().Id, infrastructure.ReadFirstToken().Secret);
        using var with = await SendWithKeyAsync(web, Path(app, "guarded", "?x=1"), token.Id, token.Secret!);

        await AssertProblemAsync(without, HttpStatusCode.Unauthorized, WebHeaders.ProxyKey);
        await AssertProblemAsync(wrong, HttpStatusCode.Unauthorized, "not a valid proxy token");
        await AssertProblemAsync(workspaceToken, HttpStatusCode.Unauthorized, "not a valid proxy token");
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        Assert.Equal("2", await with.Content.ReadAsStringAsync());
    }

    private static Task<HttpResponseMessage> SendWithKeyAsync(HttpClient web, Uri uri, string key, string secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Add(WebHeaders.ProxyKey, key);
        request.Headers.Add(WebHeaders.ProxySecret, secret);
        return web.SendAsync(request);
    }

    [Fact]
    public async Task StoppedApp_Answers404AtOnceAndARedeployKeepsTheUrl()
    {
        await using var api = Api();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();
        var deployed = await DeployAsync(client, app, Square);
        await using (var runner = await RunnerAsync(deployed, Answer))
        {
            using var served = await Anonymous(api).GetAsync(Path(app, "square", "?x=2"));
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        using var stop = await client.DeleteAsync(new Uri($"/v1/apps/{app}", UriKind.Relative));
        using var stopped = await Anonymous(api).GetAsync(Path(app, "square", "?x=2"));
        var again = await DeployAsync(client, app, Square);
        await using var second = await RunnerAsync(again, Answer);
        using var redeployed = await Anonymous(api).GetAsync(Path(app, "square", "?x=3"));

        Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        await AssertProblemAsync(stopped, HttpStatusCode.NotFound, "No running app has a web endpoint");
        Assert.Equal(HttpStatusCode.OK, redeployed.StatusCode);
        Assert.Equal("9", await redeployed.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Listing_NamesEveryEndpointWithBothUrlForms()
    {
        await using var api = Api(("Ingress:BaseDomain", "apps.example.test"));
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();
        await DeployAsync(client, app, Square, Sum, Plain);

        var list = (await client.GetFromJsonAsync<WebEndpointList>(new Uri("/v1/web-endpoints", UriKind.Relative)))!;
        var info = (await client.GetFromJsonAsync<DeployedAppInfo>(new Uri($"/v1/apps/{app}", UriKind.Relative)))!;
        var function = (await client.GetFromJsonAsync<DeployedFunctionInfo>(new Uri($"/v1/apps/{app}/functions/sum", UriKind.Relative)))!;

        var mine = list.Endpoints.Where(e => e.App == app).OrderBy(e => e.Function).ToList();
        Assert.Equal(["square", "sum"], mine.Select(e => e.Function));
        Assert.Equal($"http://main--{app}-square.apps.example.test/", mine[0].Url);
        Assert.Equal($"http://localhost/web/main--{app}-square/", mine[0].PathUrl);
        Assert.Equal($"http://main--{app}-adder.apps.example.test/", mine[1].Url);
        Assert.Equal(WebEndpointKinds.Function, mine[0].Kind);
        Assert.Equal(mine[1].Url, function.WebUrl);
        Assert.Equal(mine[0].Url, info.Functions.Single(f => f.Name == "square").WebUrl);
        Assert.Null(info.Functions.Single(f => f.Name == "plain").WebUrl);
    }

    [Fact]
    public async Task Deploy_BadWebManifest_Returns400NamingTheFunction()
    {
        await using var api = Api();
        var client = infrastructure.AuthenticatedClient(api);

        using var badLabel = await client.PutAsJsonAsync(new Uri($"/v1/apps/{UniqueAppName()}", UriKind.Relative),
            new { functions = new[] { Manifest("f", [], label: "Not_A_Label") } });
        using var noMethods = await client.PutAsJsonAsync(new Uri($"/v1/apps/{UniqueAppName()}", UriKind.Relative),
            new { functions = new[] { Manifest("g", [], methods: []) } });

        await AssertProblemAsync(badLabel, HttpStatusCode.BadRequest, "functions[0].web");
        await AssertProblemAsync(noMethods, HttpStatusCode.BadRequest, "needs its HTTP methods");
    }

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string fragment)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {status}, got {response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(fragment, body, StringComparison.Ordinal);
    }
}
