using System.Diagnostics;
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

    [Fact]
    public async Task Cli_CreateListDelete_PrintsTheSecretOnceWithTheHeaders()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        api.UseKestrel(0);
        api.StartServer();
        var server = api.CreateClient().BaseAddress!;

        var (created, createOutput) = await ModalAsync(server, "workspace", "proxy-tokens", "create", "--name", "cli");
        Assert.True(created == 0, createOutput);
        var id = System.Text.RegularExpressions.Regex.Match(createOutput, "Modal-Key: (wk-[0-9a-f]{32})").Groups[1].Value;
        var secret = System.Text.RegularExpressions.Regex.Match(createOutput, "Modal-Secret: (ws-[0-9a-f]{32})").Groups[1].Value;
        Assert.NotEmpty(id);
        Assert.NotEmpty(secret);

        var (listed, listOutput) = await ModalAsync(server, "workspace", "proxy-tokens", "list");
        Assert.True(listed == 0, listOutput);
        Assert.Contains(id, listOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, listOutput, StringComparison.Ordinal);

        var (deleted, deleteOutput) = await ModalAsync(server, "workspace", "proxy-tokens", "delete", id);
        Assert.True(deleted == 0, deleteOutput);
        var (again, againOutput) = await ModalAsync(server, "workspace", "proxy-tokens", "delete", id);
        Assert.Equal(1, again);
        Assert.Contains("No proxy token", againOutput, StringComparison.Ordinal);
    }

    /// <summary>Runs the built <c>modal</c> CLI against <paramref name="server"/> with the install's first token; stdout and stderr together.</summary>
    private async Task<(int ExitCode, string Output)> ModalAsync(Uri server, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(RepositoryPaths.Root, "src", "Modal.Cli", "bin", Examples.Configuration, "net10.0", "modal.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var (id, secret) = infrastructure.ReadFirstToken();
        start.Environment[ModalCredentials.ServerUrlVariable] = server.ToString();
        start.Environment[ModalCredentials.TokenIdVariable] = id;
        start.Environment[ModalCredentials.TokenSecretVariable] = secret;
        // Wide enough that no table cell is wrapped.
        start.Environment["COLUMNS"] = "200";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the modal CLI.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"modal {string.Join(' ', arguments)} did not finish.");
        }
        return (process.ExitCode, await stdout + await stderr);
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
