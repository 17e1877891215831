using Modal.Api.Contracts.Workspaces;
using Refit;

namespace Modal.Rest;

/// <summary>Low-level REST client for <c>/v1/workspaces</c>; usable on its own from any .NET application.</summary>
public interface IWorkspacesApi
{
    /// <summary>Lists every workspace, ordered by name.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/workspaces")]
    Task<IReadOnlyList<Workspace>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Gets one workspace by name; a missing one fails with a <see cref="ValidationApiException"/> whose <c>Content</c> is the problem details (404).</summary>
    /// <param name="name">The workspace's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/workspaces/{name}")]
    Task<Workspace> GetAsync(string name, CancellationToken cancellationToken = default);
}
