using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Hosting;
using Modal.Api.Contracts.Objects;
using Modal.Platform.Tests.Infrastructure;
using Modal.Rest;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Direct access to Storage: the Api's workspace credentials, Storage refusing every credential it did not issue for
/// that workspace (real Storage, real Redis), and the SDK taking the direct path or falling back to the Api.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class StorageCredentialTests(StorageBehindApi platform) : IClassFixture<StorageBehindApi>
{
    [Fact]
    public async Task Sdk_DictAndQueueOperations_GoStraightToStorage()
    {
        var before = platform.DirectRequests;
        var dict = Dict.FromName(platform.Client, $"direct-{Guid.NewGuid():N}", createIfMissing: true);
        var queue = Queue.FromName(platform.Client, $"direct-{Guid.NewGuid():N}", createIfMissing: true);

        await dict.PutAsync("k", 41);
        await queue.PutAsync("item");

        Assert.Equal(41, await dict.GetAsync<int>("k"));
        Assert.Equal("item", await queue.GetAsync<string>(new QueueGetOptions { Block = false }));
        // Ensure + put + get for each object, all of them direct.
        Assert.True(platform.DirectRequests - before >= 6, $"{platform.DirectRequests - before} requests went straight to Storage.");
        Assert.True(platform.Client.StorageRouter.LastWentDirect);
    }

    [Fact]
    public async Task Sdk_StorageUnreachable_FallsBackToTheApi_SameWorkspaceData()
    {
        var name = $"fallback-{Guid.NewGuid():N}";
        await Dict.FromName(platform.Client, name, createIfMissing: true).PutAsync("k", "written directly");

        var read = await Dict.FromName(platform.ProxiedClient, name).GetAsync<string>("k");

        Assert.Equal("written directly", read);
        Assert.False(platform.ProxiedClient.StorageRouter.LastWentDirect);
    }

    [Fact]
    public async Task Api_IssuesCredentialForTheTokensWorkspace_AndStorageAcceptsIt()
    {
        var access = await platform.Client.StorageAccess.IssueCredentialAsync();
        var workspaces = await platform.Client.Workspaces.ListAsync();

        Assert.Equal(workspaces.Single().Id, TestSecretKeys.StorageCredentials().Validate(access.Credential));
        Assert.True(access.ExpiresAt > DateTimeOffset.UtcNow);
        using var response = await SendAsync(access.Credential, HttpMethod.Get, "/v1/dicts");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Storage_CredentialWithAnotherWorkspaceWrittenIn_Returns401()
    {
        var (victim, name) = await DictOfNewWorkspaceAsync();
        var attacker = TestSecretKeys.StorageCredentials().Issue(Guid.NewGuid()).Credential;
        var parts = attacker.Split('.');
        // The attacker's own signature, with the victim's workspace: the HMAC covers the workspace.
        var tampered = string.Join('.', parts[0], victim.ToString("N"), parts[2], parts[3]);

        using var response = await SendAsync(tampered, HttpMethod.Get, $"/v1/dicts/{name}/entry?key=secret");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Storage_CredentialWithLaterExpiryWrittenIn_Returns401()
    {
        var credential = TestSecretKeys.StorageCredentials().Issue(Guid.NewGuid()).Credential;
        var parts = credential.Split('.');
        var extended = string.Join('.', parts[0], parts[1], (long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) + 86_400)
            .ToString(System.Globalization.CultureInfo.InvariantCulture), parts[3]);

        using var response = await SendAsync(extended, HttpMethod.Get, "/v1/dicts");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Storage_CredentialSignedWithAnotherKey_Returns401()
    {
        var otherInstall = new StorageCredentials(
            Microsoft.Extensions.Options.Options.Create(new StorageCredentialOptions { Key = TestSecretKeys.NewKey() }), TimeProvider.System);

        using var response = await SendAsync(otherInstall.Issue(Guid.NewGuid()).Credential, HttpMethod.Get, "/v1/dicts");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Storage_ExpiredCredential_Returns401()
    {
        var expired = TestSecretKeys.StorageCredentials().Issue(Guid.NewGuid(), DateTimeOffset.UtcNow.AddSeconds(-1));

        using var response = await SendAsync(expired, HttpMethod.Get, "/v1/dicts");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Storage_BareWorkspaceHeader_Returns401()
    {
        var (victim, name) = await DictOfNewWorkspaceAsync();
        using var client = platform.Storage.CreateClient();
        client.DefaultRequestHeaders.Add("Modal-Workspace-Id", victim.ToString());

        using var response = await client.GetAsync(new Uri($"/v1/dicts/{name}/entry?key=secret", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Storage_CredentialOfAnotherWorkspace_SeesOnlyItsOwnObjects()
    {
        var (_, name) = await DictOfNewWorkspaceAsync();
        using var other = platform.StorageClientFor(Guid.NewGuid());

        using var entry = await other.GetAsync(new Uri($"/v1/dicts/{name}/entry?key=secret", UriKind.Relative));
        var listed = await other.GetFromJsonAsync<StorageObjectInfo[]>(new Uri("/v1/dicts", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, entry.StatusCode);
        Assert.DoesNotContain(listed!, d => d.Name == name);
    }

    /// <summary>A Dict holding "secret" in a workspace of its own, written with that workspace's credential.</summary>
    private async Task<(Guid Workspace, string Name)> DictOfNewWorkspaceAsync()
    {
        var workspace = Guid.NewGuid();
        var name = $"private-{Guid.NewGuid():N}";
        using var owner = platform.StorageClientFor(workspace);
        (await owner.PutAsync(new Uri($"/v1/dicts/{name}", UriKind.Relative), null)).EnsureSuccessStatusCode();
        (await owner.PutAsJsonAsync(new Uri($"/v1/dicts/{name}/entry?key=secret", UriKind.Relative), 42)).EnsureSuccessStatusCode();
        using var check = await owner.GetAsync(new Uri($"/v1/dicts/{name}/entry?key=secret", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, check.StatusCode);
        return (workspace, name);
    }

    private async Task<HttpResponseMessage> SendAsync(string credential, HttpMethod method, string path)
    {
        using var client = platform.Storage.CreateClient();
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        request.Headers.Add(StorageCredentials.HeaderName, credential);
        return await client.SendAsync(request);
    }
}
