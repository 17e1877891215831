namespace Modal.Api.Contracts.Web;

/// <summary>The kinds of web endpoint a function can be (<see cref="WebEndpointManifest.Kind"/>).</summary>
public static class WebEndpointKinds
{
    /// <summary>
    /// A web function (Modal's <c>fastapi_endpoint</c>): each request becomes a call through the normal call path
    /// (queue, retries, autoscaling on backlog, logs); the query string and JSON body bind to its parameters.
    /// </summary>
    public const string Function = "Function";

    /// <summary>
    /// An ASP.NET Core app (Modal's <c>asgi_app</c>) hosted by the SDK in its container on the container's web socket
    /// (<c>MODAL_WEB_SOCKET</c>); the ingress proxies requests straight to a ready container.
    /// </summary>
    public const string AspNetApp = "AspNetApp";

    /// <summary>
    /// Any HTTP server the container starts on <see cref="WebEndpointManifest.Port"/> (Modal's <c>web_server</c>), reached
    /// inside the container's own network namespace; proxied like <see cref="AspNetApp"/>.
    /// </summary>
    public const string Server = "Server";

    /// <summary>Whether requests skip the queue and go straight to a container (apps and servers).</summary>
    public static bool IsServer(string kind) => kind is AspNetApp or Server;
}

/// <summary>How a function is served over HTTP (part of its <see cref="Apps.FunctionManifest"/>).</summary>
/// <param name="Kind">One of <see cref="WebEndpointKinds"/>.</param>
/// <param name="Methods">HTTP methods a web function answers (upper case); empty for apps and servers (they route themselves).</param>
/// <param name="Label">
/// The last part of its host name (<c>{workspace}--{app}-{label}</c>): lowercase letters, digits and '-'; null for the
/// function's name made host-safe.
/// </param>
/// <param name="RequiresProxyAuth">Only requests with a valid <c>Modal-Key</c>/<c>Modal-Secret</c> pair get through.</param>
/// <param name="Port">The port a <see cref="WebEndpointKinds.Server"/> listens on inside its container; null otherwise.</param>
/// <param name="StartupTimeoutSeconds">How long a server container may take to accept connections once started.</param>
public sealed record WebEndpointManifest(
    string Kind, IReadOnlyList<string> Methods, string? Label = null, bool RequiresProxyAuth = false, int? Port = null,
    double StartupTimeoutSeconds = 5);

/// <summary>A web endpoint of a running app, with its URLs (<c>GET /v1/web-endpoints</c>, and in <c>modal deploy</c>'s output).</summary>
/// <param name="App">The app's name.</param>
/// <param name="AppId">The app's id.</param>
/// <param name="Function">The function that serves it.</param>
/// <param name="Kind">One of <see cref="WebEndpointKinds"/>.</param>
/// <param name="Url">Its host-based URL, <c>{scheme}://{workspace}--{app}-{label}.{base domain}[:port]/</c>; unchanged by a redeploy.</param>
/// <param name="PathUrl">The same endpoint for clients that cannot set a host: <c>{ingress}/web/{workspace}--{app}-{label}/</c>.</param>
/// <param name="RequiresProxyAuth">Whether it needs <c>Modal-Key</c>/<c>Modal-Secret</c>.</param>
public sealed record WebEndpointInfo(string App, string AppId, string Function, string Kind, string Url, string PathUrl, bool RequiresProxyAuth);

/// <summary>The workspace's web endpoints (<c>GET /v1/web-endpoints</c>).</summary>
/// <param name="Endpoints">Every endpoint of every running app.</param>
public sealed record WebEndpointList(IReadOnlyList<WebEndpointInfo> Endpoints);

/// <summary>A proxy-auth token (its secret is shown once, when created).</summary>
/// <param name="Id">The token's id (<c>wk-…</c>): the <c>Modal-Key</c> header's value.</param>
/// <param name="Secret">Its secret (<c>ws-…</c>): the <c>Modal-Secret</c> header's value. Only in the creation's answer; null after.</param>
/// <param name="Name">A name to tell tokens apart, if given.</param>
/// <param name="CreatedAt">When it was created.</param>
public sealed record ProxyTokenInfo(string Id, string? Secret, string? Name, DateTimeOffset CreatedAt);

/// <summary>Body of <c>POST /v1/proxy-tokens</c>.</summary>
/// <param name="Name">An optional name (at most 100 characters).</param>
public sealed record CreateProxyTokenRequest(string? Name = null);

/// <summary>The workspace's proxy-auth tokens (<c>GET /v1/proxy-tokens</c>), without secrets.</summary>
/// <param name="Tokens">The tokens, newest first.</param>
public sealed record ProxyTokenList(IReadOnlyList<ProxyTokenInfo> Tokens);

/// <summary>Header names and limits of web endpoints.</summary>
public static class WebHeaders
{
    /// <summary>A proxy-auth token's id, on requests to an endpoint that requires proxy auth.</summary>
    public const string ProxyKey = "Modal-Key";

    /// <summary>A proxy-auth token's secret, with <see cref="ProxyKey"/>.</summary>
    public const string ProxySecret = "Modal-Secret";

    /// <summary>On requests from the ingress to a runner's web forwarder: the container to reach (with the runner key).</summary>
    public const string ContainerId = "Modal-Container-Id";

    /// <summary>
    /// On a runner web forwarder's own error answers (not the container's): what went wrong, e.g.
    /// <see cref="ContainerNotFound"/>, so the ingress tells them from the app's own 404 or 502.
    /// </summary>
    public const string ForwarderError = "Modal-Forwarder-Error";

    /// <summary><see cref="ForwarderError"/>'s value on a 404 for a container the runner does not have (ready): the ingress drops it and tries another.</summary>
    public const string ContainerNotFound = "container-not-found";

    /// <summary>The ingress's base domain when <c>Ingress:BaseDomain</c> is not set: curl and browsers resolve <c>*.localhost</c> to loopback.</summary>
    public const string DefaultBaseDomain = "modal.localhost";

    /// <summary>Where the path form of an endpoint's URL starts: <c>/web/{host label}/…</c>.</summary>
    public const string PathPrefix = "/web/";

    /// <summary>On a web function's answer: the call that produced it (its logs are at <c>/v1/calls/{id}/logs</c>).</summary>
    public const string FunctionCallId = "Modal-Function-Call-Id";
}
