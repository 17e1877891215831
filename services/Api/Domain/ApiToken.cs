using Modal.Api.Contracts.Tokens;

namespace Modal.Api.Domain;

/// <summary>
/// A credential for one workspace: a public id (<c>ak-…</c>) and a secret (<c>as-…</c>) of which only a SHA-256 hash is
/// stored. Secrets are 128-bit random values, so a fast hash is enough (no password stretching needed).
/// </summary>
public sealed class ApiToken
{
    public required string Id { get; init; }

    public Guid WorkspaceId { get; init; }

    public required string Name { get; init; }

    public required byte[] SecretHash { get; init; }

    /// <summary>What it may do, a <see cref="TokenScopes"/> name (persisted by name).</summary>
    public string Scope { get; init; } = TokenScopes.Workspace;

    /// <summary>For a <see cref="TokenScopes.Container"/> token, the app whose containers hold it; otherwise null.</summary>
    public Guid? AppId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? RevokedAt { get; set; }
}
