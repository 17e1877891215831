namespace Modal.Api.Contracts.Tokens;

/// <summary>Body of a token creation.</summary>
/// <param name="Name">What the token is for ("ci", "laptop"); 1-100 characters.</param>
public sealed record CreateTokenRequest(string? Name);

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
public sealed record TokenInfo(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
