namespace Modal.Api.Domain;

/// <summary>
/// A proxy-auth token of a workspace: requests to its web endpoints that require proxy auth carry the id
/// (<c>Modal-Key: wk-…</c>) and the secret (<c>Modal-Secret: ws-…</c>). Only a SHA-256 hash of the 128-bit random
/// secret is stored, as for <see cref="ApiToken"/>. Deleting a token removes its row (nothing else refers to it).
/// </summary>
public sealed class ProxyToken
{
    public required string Id { get; init; }

    public Guid WorkspaceId { get; init; }

    public string? Name { get; init; }

    public required byte[] SecretHash { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
}
