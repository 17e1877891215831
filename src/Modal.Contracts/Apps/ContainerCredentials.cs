namespace Modal.Contracts.Apps;

/// <summary>
/// Request (runner → Api, for a container about to start, or ahead of one): a token for one container of an app, so the
/// function inside can use the platform (Dict, Queue, Volume, calling other functions) as its workspace, within the
/// container scope. Answered with <see cref="ContainerToken"/>; the token is revoked when its container stops
/// (<see cref="RevokeContainerToken"/>) or its app does.
/// </summary>
public sealed record IssueContainerToken
{
    public required Guid WorkspaceId { get; init; }
    public required Guid AppId { get; init; }
    public required string RunnerId { get; init; }
}

/// <summary>
/// Answer to <see cref="IssueContainerToken"/>: a container token (id and secret). Sent point to point to the asking
/// runner's own response queue, never published.
/// </summary>
public sealed record ContainerToken
{
    public required string TokenId { get; init; }
    public required string TokenSecret { get; init; }
}

/// <summary>
/// Command (runner → Api): the container holding this token stopped, or never started; the token dies with it. Only a
/// container token of that app and workspace is revoked; revoking twice is not an error.
/// </summary>
public sealed record RevokeContainerToken
{
    public required Guid WorkspaceId { get; init; }
    public required Guid AppId { get; init; }
    public required string TokenId { get; init; }
    /// <summary>The container that held it, for logs; null for a token issued ahead that no container took.</summary>
    public string? ContainerId { get; init; }
}
