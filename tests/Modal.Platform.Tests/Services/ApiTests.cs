using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Modal.Api;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Tokens;
using Modal.Api.Contracts.Workspaces;
using Modal.Api.Endpoints;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

[Collection(InfrastructureTestGroup.Name)]
public sealed class ApiTests(InfrastructureFixture infrastructure)
{
    private static readonly Uri Workspaces = new("/v1/workspaces", UriKind.Relative);
    private static readonly Uri Tokens = new("/v1/tokens", UriKind.Relative);

    [Fact]
    public async Task Health_AllStoresRunning_ReportsPostgresRedisAndBusHealthy()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = api.CreateClient();

        var health = await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(client),
            report => report.Status == "Healthy", "the Api reports healthy");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", health.CheckStatus("ApiDbContext"));
        Assert.Equal("Healthy", health.CheckStatus("Redis"));
        Assert.Equal("Healthy", health.CheckStatus("masstransit"));
    }

    [Fact]
    public async Task ListWorkspaces_FirstToken_SeesDefaultWorkspace()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);

        var workspaces = await client.GetFromJsonAsync<List<Workspace>>(Workspaces);

        var main = Assert.Single(workspaces!);
        Assert.Equal("main", main.Name);
    }

    [Fact]
    public async Task ListWorkspaces_NoToken_Returns401ProblemNamingTheHeaders()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = api.CreateClient();

        using var response = await client.GetAsync(Workspaces);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Modal-Token-Id", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListWorkspaces_WrongSecret_Returns401()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var (id, _) = infrastructure.ReadFirstToken();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{id}:as-0000000000000000");

        using var response = await client.GetAsync(Workspaces);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ModalTokenHeaders_FirstToken_Authenticate()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        _ = api.CreateClient();
        var (id, secret) = infrastructure.ReadFirstToken();
        var client = api.CreateClient();
        client.DefaultRequestHeaders.Add("Modal-Token-Id", id);
        client.DefaultRequestHeaders.Add("Modal-Token-Secret", secret);

        using var response = await client.GetAsync(Workspaces);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task CreateToken_ThenRevoke_WorksUntilRevokedAndIsNeverListedWithItsSecret()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var admin = infrastructure.AuthenticatedClient(api);

        using var created = await admin.PostAsJsonAsync(Tokens, new CreateTokenRequest("ci"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync<CreatedToken>())!;
        var ci = api.CreateClient();
        ci.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{token.Id}:{token.Secret}");
        Assert.Equal(HttpStatusCode.OK, (await ci.GetAsync(Workspaces)).StatusCode);

        var listing = await admin.GetStringAsync(Tokens);
        Assert.Contains(token.Id, listing, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Secret, listing, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(new Uri($"/v1/tokens/{token.Id}", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ci.GetAsync(Workspaces)).StatusCode);
    }

    [Fact]
    public async Task CreateToken_EmptyName_Returns400NamingTheField()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);

        using var response = await client.PostAsJsonAsync(Tokens, new CreateTokenRequest(" "));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("name", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetWorkspace_UnknownName_ReturnsProblemDetails404()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);

        using var response = await client.GetAsync(new Uri("/v1/workspaces/no-such-workspace", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-such-workspace", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_TwiceOnSameDatabase_KeepsOneWorkspaceAndOneFirstToken()
    {
        await using var first = new ServiceFactory<ApiOptions>();
        _ = first.CreateClient();
        var firstToken = infrastructure.ReadFirstToken();
        await using var second = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(second);

        var workspaces = await client.GetFromJsonAsync<List<Workspace>>(Workspaces);
        var tokens = await client.GetFromJsonAsync<List<TokenInfo>>(Tokens);

        Assert.Single(workspaces!, w => w.Name == "main");
        Assert.Single(tokens!, t => t.Name == "first token");
        Assert.Equal(firstToken, infrastructure.ReadFirstToken());
    }

    [Fact]
    public async Task Deploy_SecretsServiceUnreachableInProduction_Returns500ProblemWithoutStackTraceOrHeaders()
    {
        // A service the Api depends on is down: the deploy's secret check throws, unhandled. A closed loopback port.
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var api = new ServiceFactory<ApiOptions>(("Api:SecretsUrl", $"http://127.0.0.1:{closedPort}/"))
        {
            Environment = "Production",
        };
        var client = infrastructure.AuthenticatedClient(api);
        var (_, tokenSecret) = infrastructure.ReadFirstToken();
        var function = new FunctionManifest("f", [], "System.String", null, [], 0.25, 128, 60, null,
            [new SecretManifest("unreachable-secret", [])], new Dictionary<string, string>(), new Dictionary<string, string>(),
            0, null, 0, 60, 1);

        using var response = await client.PutAsJsonAsync(new Uri("/v1/apps/secrets-down", UriKind.Relative),
            new DeployAppRequest([function], new string('0', 64)));

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("traceId", body, StringComparison.Ordinal);
        Assert.DoesNotContain(tokenSecret, body, StringComparison.Ordinal);
        Assert.DoesNotContain("Authorization", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("HttpRequestException", body, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", body, StringComparison.Ordinal);
        Assert.DoesNotContain(".cs", body, StringComparison.Ordinal);
    }
}
