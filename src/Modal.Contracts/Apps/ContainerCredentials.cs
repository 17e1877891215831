namespace Modal.Contracts.Apps;

/// <summary>
/// Request (runner → Api, when it first starts a container of an app): a token for that app's containers, so the
/// functions inside can use the platform (Dict, Queue, Volume, calling other functions) as their workspace.
/// Answered with <see cref="ContainerToken"/>; the token is revoked when the app stops.
/// </summary>
public sealed record IssueContainerToken
{
    public required Guid WorkspaceId { get; init; }
    public required Guid AppId { get; init; }
    public required string RunnerId { get; init; }
}

/// <summary>
/// Answer to <see cref="IssueContainerToken"/>: a workspace token (id and secret). Sent point to point to the asking
/// runner's own response queue, never published.
/// </summary>
public sealed record ContainerToken
{
    public required string TokenId { get; init; }
    public required string TokenSecret { get; init; }
}
