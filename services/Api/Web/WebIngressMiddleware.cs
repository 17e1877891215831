using Microsoft.Extensions.Options;

namespace Modal.Api.Web;

/// <summary>
/// The ingress, first in the Api's pipeline (decision 28): a request whose host is <c>{host label}.{base domain}</c>, or
/// whose path starts with <c>/web/{host label}/</c> (the prefix is moved to the request's PathBase, which the proxy
/// sends on as <c>X-Forwarded-Prefix</c>), is served here — as a call for a web function, proxied to a container for a
/// server — and never reaches routing, authentication or the REST endpoints. Any other request goes on.
/// </summary>
public sealed class WebIngressMiddleware(
    RequestDelegate next, IOptions<IngressOptions> options, WebEndpointDirectory directory, WebFunctionHandler functions, ServerProxy servers)
{
    private readonly string _baseDomain = options.Value.BaseDomain;

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        ValueTask<WebEndpoint?> found;
        string? label = null;
        if (WebEndpointNames.TryGetHostLabel(request.Host.Value, _baseDomain, out var hostLabel))
        {
            found = directory.FindAsync(hostLabel, context.RequestAborted);
        }
        else if (request.Path.StartsWithSegments("/web", StringComparison.Ordinal, out var rest) && rest.HasValue)
        {
            // "/web/{label}" + the endpoint's own path.
            var path = rest.Value!;
            var end = path.IndexOf('/', 1);
            label = end < 0 ? path[1..] : path[1..end];
            request.PathBase = request.PathBase.Add(new PathString(WebEndpointNames.PathPrefix + label));
            request.Path = end < 0 ? PathString.Empty : new PathString(path[end..]);
            found = directory.FindAsync(label, context.RequestAborted);
        }
        else
        {
            return next(context);
        }
        return found.IsCompletedSuccessfully ? ServeAsync(context, found.Result, hostLabel.IsEmpty ? label : null) : AwaitAndServeAsync(context, found, label);
    }

    private async Task AwaitAndServeAsync(HttpContext context, ValueTask<WebEndpoint?> found, string? label) =>
        await ServeAsync(context, await found, label);

    private Task ServeAsync(HttpContext context, WebEndpoint? endpoint, string? label)
    {
        if (endpoint is null)
        {
            return WebProblems.WriteAsync(context, StatusCodes.Status404NotFound, "Web endpoint not found",
                $"No running app has a web endpoint at '{label ?? context.Request.Host.Value}'. See GET /v1/web-endpoints for the workspace's endpoints.");
        }
        return endpoint.IsServer ? servers.ProxyAsync(context, endpoint) : functions.HandleAsync(context, endpoint);
    }
}

/// <summary>Puts the ingress first in the Api's pipeline.</summary>
public static class WebIngressExtensions
{
    /// <summary>
    /// The ingress, then routing, authentication and authorization, named here so that none of them runs before the
    /// ingress (WebApplication would otherwise put routing and authentication at the very start of the pipeline).
    /// </summary>
    public static WebApplication UseWebIngress(this WebApplication app)
    {
        app.UseMiddleware<WebIngressMiddleware>();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }
}
