using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Modal.Api;
using Modal.Api.Contracts.Web;
using Modal.Api.Contracts.Workspaces;
using Modal.Api.Web;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>Proxy-auth tokens through the real Api, PostgreSQL and RabbitMQ: REST, and the validator the ingress asks.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class ProxyTokenTests(InfrastructureFixture infrastructure)
{
    private static readonly Uri ProxyTokens = new("/v1/proxy-tokens", UriKind.Relative);

    [Fact]
    public async Task Create_List_Delete_SecretShownOnceAndTokenGone()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);

        using var created = await client.PostAsJsonAsync(ProxyTokens, new CreateProxyTokenRequest("frontend"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync<ProxyTokenInfo>())!;
        Assert.Matches("^wk-[0-9a-f]{32}$", token.Id);
        Assert.Matches("^ws-[0-9a-f]{32}$", token.Secret!);
        Assert.Equal("frontend", token.Name);
        Assert.Equal($"/v1/proxy-tokens/{token.Id}", created.Headers.Location?.OriginalString);

        var listing = await client.GetStringAsync(ProxyTokens);
        Assert.DoesNotContain(token.Secret!, listing, StringComparison.Ordinal);
        var listed = (await client.GetFromJsonAsync<ProxyTokenList>(ProxyTokens))!;
        var entry = Assert.Single(listed.Tokens, t => t.Id == token.Id);
        Assert.Null(entry.Secret);
        Assert.Equal("frontend", entry.Name);

        using var deleted = await client.DeleteAsync(new Uri($"/v1/proxy-tokens/{token.Id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        listed = (await client.GetFromJsonAsync<ProxyTokenList>(ProxyTokens))!;
        Assert.DoesNotContain(listed.Tokens, t => t.Id == token.Id);
    }

    [Fact]
    public async Task Create_NoBodyOrNoName_CreatesAnUnnamedToken()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);

        using var created = await client.PostAsJsonAsync(ProxyTokens, new CreateProxyTokenRequest());

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var token = (await created.Content.ReadFromJsonAsync<ProxyTokenInfo>())!;
        Assert.Null(token.Name);
        Assert.NotNull(token.Secret);
    }

    [Fact]
    public async Task Create_NameTooLong_Returns400NamingTheField()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);

        using var response = await client.PostAsJsonAsync(ProxyTokens, new CreateProxyTokenRequest(new string('x', 101)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.Contains("name", problem.Errors.Keys);
    }

    [Fact]
    public async Task Delete_UnknownToken_Returns404Problem()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);

        using var response = await client.DeleteAsync(new Uri("/v1/proxy-tokens/wk-00000000000000000000000000000000", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task List_NoToken_Returns401()
    {
        await using var api = new ServiceFactory<ApiOptions>();

        using var response = await api.CreateClient().GetAsync(ProxyTokens);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ValidateAsync_ValidPair_Accepts_WrongSecretOrOtherWorkspaceOrJunk_Refuses()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var workspaceId = await MainWorkspaceIdAsync(client);
        var token = await CreateAsync(client);
        var validator = api.Services.GetRequiredService<ProxyTokenValidator>();

        Assert.True(await validator.ValidateAsync(workspaceId, token.Id, token.Secret!, CancellationToken.None));
        // Twice: the second answer comes from the cache and must agree.
        Assert.True(await validator.ValidateAsync(workspaceId, token.Id, token.Secret!, CancellationToken.None));

        var wrongSecret = "ws-" + new string('0', 32);
        Assert.False(await validator.ValidateAsync(workspaceId, token.Id, wrongSecret, CancellationToken.None));
        Assert.False(await validator.ValidateAsync(Guid.NewGuid(), token.Id, token.Secret!, CancellationToken.None));
        Assert.False(await validator.ValidateAsync(workspaceId, "wk-" + new string('1', 32), token.Secret!, CancellationToken.None));
        Assert.False(await validator.ValidateAsync(workspaceId, "junk", "junk", CancellationToken.None));
        Assert.False(await validator.ValidateAsync(workspaceId, token.Id.ToUpperInvariant(), token.Secret!, CancellationToken.None));
    }

    [Fact]
    public async Task ValidateAsync_TokenDeletedOnAnotherReplica_RefusedThereAtOnceThroughTheBus()
    {
        await using var deleting = new ServiceFactory<ApiOptions>();
        await using var other = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(deleting);
        _ = other.CreateClient();
        var workspaceId = await MainWorkspaceIdAsync(client);
        var token = await CreateAsync(client);
        var validator = other.Services.GetRequiredService<ProxyTokenValidator>();
        var local = deleting.Services.GetRequiredService<ProxyTokenValidator>();
        Assert.True(await validator.ValidateAsync(workspaceId, token.Id, token.Secret!, CancellationToken.None));
        Assert.True(await local.ValidateAsync(workspaceId, token.Id, token.Secret!, CancellationToken.None));
        await WaitForBusAsync(other);

        using var deleted = await client.DeleteAsync(new Uri($"/v1/proxy-tokens/{token.Id}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        Assert.False(await local.ValidateAsync(workspaceId, token.Id, token.Secret!, CancellationToken.None));
        // Well within the validator's 30 s cache lifetime: only the ProxyTokenRevoked event can make the other replica forget.
        await Eventually.ReturnsAsync(
            async () => await validator.ValidateAsync(workspaceId, token.Id, token.Secret!, CancellationToken.None),
            accepted => !accepted, "the other replica refuses the deleted token", TimeSpan.FromSeconds(10));
        Assert.True(ProxyTokenValidator.ValidLifetime > TimeSpan.FromSeconds(10));
    }

    private static async Task<ProxyTokenInfo> CreateAsync(HttpClient client)
    {
        using var created = await client.PostAsJsonAsync(ProxyTokens, new CreateProxyTokenRequest("test"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await created.Content.ReadFromJsonAsync<ProxyTokenInfo>())!;
    }

    private static async Task<Guid> MainWorkspaceIdAsync(HttpClient client) =>
        Assert.Single((await client.GetFromJsonAsync<List<Workspace>>(new Uri("/v1/workspaces", UriKind.Relative)))!).Id;

    /// <summary>The replica's own revocation queue exists only once its bus has started; an event published before is lost.</summary>
    private static async Task WaitForBusAsync(ServiceFactory<ApiOptions> api) =>
        await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(api.CreateClient()),
            report => report.CheckStatus("masstransit") == "Healthy", "the replica's bus is up", TimeSpan.FromSeconds(60));
}
