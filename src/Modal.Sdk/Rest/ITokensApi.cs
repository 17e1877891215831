using Refit;

namespace Modal.Rest;

/// <summary>Body of a token creation.</summary>
/// <param name="Name">What the token is for ("ci", "laptop"); 1-100 characters.</param>
public sealed record CreateTokenRequest(string Name);

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

/// <summary>Low-level REST client for <c>/v1/tokens</c>: the tokens of the caller's workspace.</summary>
public interface ITokensApi
{
    /// <summary>Creates a token for the caller's workspace.</summary>
    /// <param name="request">The token's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/tokens")]
    Task<CreatedToken> CreateAsync([Body] CreateTokenRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists the workspace's tokens, oldest first.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/tokens")]
    Task<IReadOnlyList<TokenInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Revokes a token; requests made with it fail with 401 from then on.</summary>
    /// <param name="id">The token id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/tokens/{id}")]
    Task RevokeAsync(string id, CancellationToken cancellationToken = default);
}
