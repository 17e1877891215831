using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Calls;
using Modal.Api.Contracts.Tokens;
using Modal.Deployment;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// The token a runner hands an app's containers, read from inside a real container of the deployed HelloWorld app: it
/// may do what a function may do (issue 17) and nothing a workspace owner keeps for themselves.
/// </summary>
public sealed partial class SpineTests
{
    [Theory]
    [InlineData("POST", "/v1/tokens", """{"name": "minted-in-a-container"}""")]
    [InlineData("GET", "/v1/tokens", null)]
    [InlineData("POST", "/v1/apps", """{"name": "run-from-a-container", "functions": []}""")]
    public async Task ContainerToken_WorkspaceOnlyRoute_Returns403ProblemNamingItsApp(string method, string path, string? body)
    {
        using var container = await ContainerClientAsync();
        var appId = await HelloWorldIdAsync();

        using var request = Request(method, path, body);
        using var response = await container.SendAsync(request);

        await AssertRefusedAsync(response, appId);
        Assert.DoesNotContain(await spine.Client.Tokens.ListAsync(), t => t.Name == "minted-in-a-container");
    }

    [Fact]
    public async Task ContainerToken_RevokeAnotherToken_Returns403AndTheTokenStillWorks()
    {
        using var container = await ContainerClientAsync();
        var appId = await HelloWorldIdAsync();
        var victim = await spine.Client.Tokens.CreateAsync(new CreateTokenRequest("revoke-target"));

        using var response = await container.DeleteAsync(new Uri($"/v1/tokens/{victim.Id}", UriKind.Relative));

        await AssertRefusedAsync(response, appId);
        using var victimClient = spine.Api!.CreateClient();
        victimClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{victim.Id}:{victim.Secret}");
        Assert.Equal(HttpStatusCode.OK, (await victimClient.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode);
        await spine.Client.Tokens.RevokeAsync(victim.Id);
    }

    [Fact]
    public async Task ContainerToken_DeployAnApp_Returns403AndNothingIsDeployed()
    {
        using var container = await ContainerClientAsync();
        var appId = await HelloWorldIdAsync();
        var name = $"deployed-from-container-{Guid.NewGuid():N}"[..32];

        using var request = Request("PUT", $"/v1/apps/{name}", """{"functions": []}""");
        using var response = await container.SendAsync(request);

        await AssertRefusedAsync(response, appId);
        Assert.Equal(HttpStatusCode.NotFound, (await spine.Client.Http.GetAsync(new Uri($"/v1/apps/{name}", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task ContainerToken_StopAnApp_Returns403AndTheAppKeepsRunning()
    {
        using var container = await ContainerClientAsync();
        var appId = await HelloWorldIdAsync();
        var name = $"stop-target-{Guid.NewGuid():N}"[..24];
        await spine.Client.Apps.DeployAsync(name, new DeployAppRequest([]));

        using var response = await container.DeleteAsync(new Uri($"/v1/apps/{name}", UriKind.Relative));

        await AssertRefusedAsync(response, appId);
        Assert.Equal("Deployed", (await spine.Client.Apps.GetAsync(name)).State);
        // Nor can it stop its own app (the usual way a stop would outlive a function's mistake).
        using var ownStop = await container.DeleteAsync(new Uri($"/v1/apps/{appId}", UriKind.Relative));
        await AssertRefusedAsync(ownStop, appId);
        Assert.Equal("Deployed", (await spine.Client.Apps.GetAsync(spine.HelloWorld)).State);
        await spine.Client.Apps.StopAsync(name);
    }

    [Fact]
    public async Task ContainerToken_WhatAFunctionDoes_Works()
    {
        using var container = await ContainerClientAsync();
        var appId = await HelloWorldIdAsync();
        using var client = new ModalClient(container);
        var dictName = $"from-container-{Guid.NewGuid():N}"[..24];

        var dict = Dict.FromName(client, dictName, createIfMissing: true);
        await dict.PutAsync("answer", 42);
        Assert.Equal(42, await dict.GetAsync<int>("answer"));

        var call = await Function.FromName(client, spine.HelloWorld, "f").SpawnAsync<int>(new { i = 6 });
        Assert.Equal(36, await call.GetAsync());
        var status = await container.GetFromJsonAsync<CallInfo>(new Uri($"/v1/calls/{call.Id}", UriKind.Relative));
        Assert.Equal((call.Id, "Succeeded"), (status!.FunctionCallId, status.State));
        Assert.NotNull(await client.Apps.GetCallLogsAsync(call.Id));
        Assert.NotNull(await client.Apps.GetLogsAsync(spine.HelloWorld));

        Assert.Equal(appId, (await client.Apps.GetAsync(spine.HelloWorld)).Id);
        // update_autoscaler is a function's to call on Modal; an empty update changes nothing and answers the stats.
        using var autoscaler = await container.PutAsJsonAsync(
            new Uri($"/v1/apps/{spine.HelloWorld}/functions/f/autoscaler", UriKind.Relative), new UpdateAutoscalerRequest());
        Assert.Equal(HttpStatusCode.OK, autoscaler.StatusCode);
        // The storage credential names the workspace only, as the token's Dict, Queue and Volume rights do.
        using var storage = await container.PostAsync(new Uri("/v1/storage/credentials", UriKind.Relative), null);
        Assert.NotEqual(HttpStatusCode.Forbidden, storage.StatusCode);
    }

    [Fact]
    public async Task ContainerToken_ItsAppStopped_Returns401()
    {
        // A run of its own (an ephemeral app), so stopping it leaves the deployed HelloWorld alone.
        var run = await AppDeployer.DeployAsync(spine.Client, Examples.OutputDirectory("HelloWorld"), "HelloWorld.dll", ephemeral: true);
        using var container = await ContainerClientAsync(run.App.Id);
        Assert.Equal(HttpStatusCode.OK, (await container.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode);

        await spine.Client.Apps.StopAsync(run.App.Id);

        // At once on the replica that stopped it (this test's only one): no wait for the auth cache.
        Assert.Equal(HttpStatusCode.Unauthorized, (await container.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode);
    }

    /// <summary>The Api client a container of HelloWorld has: the token its runner gave it, read from its environment.</summary>
    private async Task<HttpClient> ContainerClientAsync(string? app = null)
    {
        // Both from one container: each container has a token of its own.
        var envs = await Function.FromName(spine.Client, app ?? spine.HelloWorld, "envs")
            .RemoteAsync<string>(new { names = $"{ModalCredentials.TokenIdVariable},{ModalCredentials.TokenSecretVariable}" });
        var (id, secret) = (envs.Split('\n')[0], envs.Split('\n')[1]);
        Assert.NotEmpty(id);
        Assert.NotEmpty(secret);
        var client = spine.Api!.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{id}:{secret}");
        return client;
    }

    private async Task<string> HelloWorldIdAsync() => (await spine.Client.Apps.GetAsync(spine.HelloWorld)).Id;

    private static HttpRequestMessage Request(string method, string path, string? body) =>
        new(new HttpMethod(method), new Uri(path, UriKind.Relative))
        {
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        };

    internal static async Task AssertRefusedAsync(HttpResponseMessage response, string appId)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<ProblemDetails>())!;
        Assert.Equal(403, problem.Status);
        Assert.Contains($"container of app {appId}", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("workspace token", problem.Detail, StringComparison.Ordinal);
    }
}
