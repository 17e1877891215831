using Modal.Api.Contracts.Web;
using Refit;

namespace Modal.Rest;

/// <summary>
/// Low-level REST client for <c>/v1/proxy-tokens</c>: the proxy-auth tokens that open the workspace's web endpoints
/// requiring proxy auth (sent as the <c>Modal-Key</c> and <c>Modal-Secret</c> headers, <see cref="WebHeaders"/>).
/// </summary>
public interface IProxyTokensApi
{
    /// <summary>Creates a token; the answer is the only place its secret is ever shown.</summary>
    /// <param name="request">An optional name for the token.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/proxy-tokens")]
    Task<ProxyTokenInfo> CreateAsync([Body] CreateProxyTokenRequest request, CancellationToken cancellationToken = default);

    /// <summary>Lists the workspace's tokens, newest first, without their secrets.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/proxy-tokens")]
    Task<ProxyTokenList> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes a token; every endpoint refuses it from then on. An unknown id fails with 404.</summary>
    /// <param name="id">The token's id (<c>wk-…</c>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/proxy-tokens/{id}")]
    Task DeleteAsync(string id, CancellationToken cancellationToken = default);
}
