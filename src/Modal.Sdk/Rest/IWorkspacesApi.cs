using Refit;

namespace Modal.Rest;

/// <summary>A workspace: the unit of isolation that owns apps, functions, secrets, dicts and volumes.</summary>
/// <param name="Id">Stable id of the workspace.</param>
/// <param name="Name">Unique name (lowercase letters, digits and dashes).</param>
/// <param name="CreatedAt">When the workspace was created.</param>
public sealed record Workspace(Guid Id, string Name, DateTimeOffset CreatedAt);

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
