namespace Modal.Api.Contracts.Workspaces;

/// <summary>A workspace: the unit of isolation that owns apps, functions, secrets, dicts and volumes.</summary>
/// <param name="Id">Stable id of the workspace.</param>
/// <param name="Name">Unique name (lowercase letters, digits and dashes).</param>
/// <param name="CreatedAt">When the workspace was created.</param>
public sealed record Workspace(Guid Id, string Name, DateTimeOffset CreatedAt);
