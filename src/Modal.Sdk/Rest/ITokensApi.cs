using Modal.Api.Contracts.Tokens;
using Refit;

namespace Modal.Rest;

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
