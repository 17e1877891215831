namespace Modal.Api.Contracts.Tokens;

/// <summary>Body of a token creation.</summary>
/// <param name="Name">What the token is for ("ci", "laptop"); 1-100 characters.</param>
public sealed record CreateTokenRequest(string? Name = null);

/// <summary>A newly created token: the only answer that ever carries its secret.</summary>
/// <param name="Id">Public token id (<c>ak-…</c>).</param>
/// <param name="Secret">Token secret (<c>as-…</c>); store it now, it cannot be read again.</param>
/// <param name="Name">The token's name.</param>
/// <param name="CreatedAt">When it was created.</param>
public sealed record CreatedToken(string Id, string Secret, string Name, DateTimeOffset CreatedAt);

/// <summary>A token as listed, without its secret.</summary>
/// <param name="Id">Public token id.</param>
/// <param name="Name">The token's name.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="RevokedAt">When it was revoked, if it was.</param>
/// <param name="Scope">What it may do: <see cref="TokenScopes.Workspace"/> or <see cref="TokenScopes.Container"/>.</param>
public sealed record TokenInfo(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string Scope = TokenScopes.Workspace);

/// <summary>What a token may do, persisted and answered by name.</summary>
public static class TokenScopes
{
    /// <summary>Everything in its workspace: the tokens people and CI use (<c>POST /v1/tokens</c> mints only these).</summary>
    public const string Workspace = "Workspace";

    /// <summary>
    /// The token of an app's containers on one runner: what a function may do (Dicts, Queues, Volumes, blobs, calls and
    /// maps of deployed functions, reading apps and logs, its functions' autoscalers), never tokens, deploying or
    /// stopping apps, or secrets. Revoked when its app stops.
    /// </summary>
    public const string Container = "Container";
}
