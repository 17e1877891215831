using System.Net;
using Modal.Api;
using Modal.Api.Contracts.Tokens;
using Modal.Platform.Tests.Infrastructure;
using Modal.Rest;
using Refit;

namespace Modal.Platform.Tests.Services;

/// <summary>The SDK's low-level Refit clients against the real Api.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class SdkRestClientTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task Workspaces_FirstToken_ListsDefaultWorkspace()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var workspaces = ModalRestClient.For<IWorkspacesApi>(infrastructure.AuthenticatedClient(api));

        var all = await workspaces.ListAsync();
        var main = await workspaces.GetAsync("main");

        Assert.Equal(main, Assert.Single(all));
    }

    [Fact]
    public async Task Workspaces_UnknownName_ThrowsValidationApiExceptionWithProblemDetails()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var workspaces = ModalRestClient.For<IWorkspacesApi>(infrastructure.AuthenticatedClient(api));

        var error = await Assert.ThrowsAsync<ValidationApiException>(() => workspaces.GetAsync("nope"));

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Contains("nope", error.Content?.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_CreateListRevoke_RoundTrip()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var tokens = ModalRestClient.For<ITokensApi>(infrastructure.AuthenticatedClient(api));

        var created = await tokens.CreateAsync(new CreateTokenRequest("sdk-test"));
        Assert.Contains(await tokens.ListAsync(), t => t.Id == created.Id && t.RevokedAt is null);
        await tokens.RevokeAsync(created.Id);

        Assert.Contains(await tokens.ListAsync(), t => t.Id == created.Id && t.RevokedAt is not null);
    }

}
