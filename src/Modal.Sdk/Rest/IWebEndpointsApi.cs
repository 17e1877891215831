using Modal.Api.Contracts.Web;
using Refit;

namespace Modal.Rest;

/// <summary>Low-level REST client for <c>/v1/web-endpoints</c>: the web endpoints of the workspace's running apps.</summary>
public interface IWebEndpointsApi
{
    /// <summary>Lists every web endpoint of every running app, with its URLs.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/web-endpoints")]
    Task<WebEndpointList> ListAsync(CancellationToken cancellationToken = default);
}
