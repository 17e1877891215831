using Modal.Api.Contracts.Web;

namespace Modal.Api.Web;

/// <summary>
/// Proxy auth of web endpoints: an endpoint that requires it takes only requests with a valid
/// <c>Modal-Key</c>/<c>Modal-Secret</c> pair of its workspace (401 problem otherwise). The pair never reaches the
/// function or the container: it is removed from every request, whether the endpoint requires it or not.
/// </summary>
public static class ProxyAuth
{
    /// <summary>Whether the request may go on; when not, the 401 has been written.</summary>
    public static async ValueTask<bool> AllowsAsync(HttpContext context, WebEndpoint endpoint)
    {
        var headers = context.Request.Headers;
        var key = headers[WebHeaders.ProxyKey].ToString();
        var secret = headers[WebHeaders.ProxySecret].ToString();
        headers.Remove(WebHeaders.ProxyKey);
        headers.Remove(WebHeaders.ProxySecret);
        if (!endpoint.Web.RequiresProxyAuth)
        {
            return true;
        }
        if (key.Length > 0 && secret.Length > 0
            && await context.RequestServices.GetRequiredService<ProxyTokenValidator>().ValidateAsync(endpoint.WorkspaceId, key, secret, context.RequestAborted))
        {
            return true;
        }
        await WebProblems.WriteAsync(context, StatusCodes.Status401Unauthorized, "Proxy authorization required",
            key.Length == 0 || secret.Length == 0
                ? $"This endpoint requires proxy auth: send a proxy token of its workspace in the '{WebHeaders.ProxyKey}' and '{WebHeaders.ProxySecret}' headers (create one with `modal workspace proxy-tokens create`)."
                : $"The '{WebHeaders.ProxyKey}'/'{WebHeaders.ProxySecret}' pair is not a valid proxy token of this endpoint's workspace.");
        return false;
    }
}
