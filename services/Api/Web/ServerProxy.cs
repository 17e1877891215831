using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Web;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.Api.Web;

/// <summary>
/// Proxies a request for a server (ASP.NET app or any server on a port) to a ready container, through the container's
/// runner's web forwarder (<c>{ForwarderUrl}{path}{query}</c> with <c>Modal-Container-Id</c> and the runner key): a slot
/// from <see cref="ServerRoutes"/>, then YARP's forwarder, bodies streamed both ways (server-sent events and WebSockets
/// pass through). A container its runner no longer has is dropped and, for a request without a body, another one is
/// tried once. The hot path reads memory only: no PostgreSQL, no bus.
/// </summary>
public sealed class ServerProxy : IDisposable
{
    private readonly IHttpForwarder _forwarder;
    private readonly ServerRoutes _routes;
    private readonly IOptions<IngressOptions> _options;
    private readonly string _runnerKey;
    private readonly HttpMessageInvoker _client;

    // Servers stream (server-sent events, WebSockets, long polls): only a connection silent this long is cut.
    // HTTP/1.1 to the runner, as the runner speaks to the container (no HTTP/2 negotiation per connection to try).
    private static readonly ForwarderRequestConfig RequestConfig = new()
    {
        ActivityTimeout = TimeSpan.FromMinutes(15),
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    public ServerProxy(IHttpForwarder forwarder, ServerRoutes routes, IOptions<IngressOptions> options, IOptions<ApiOptions> api)
    {
        _forwarder = forwarder;
        _routes = routes;
        _options = options;
        _runnerKey = api.Value.RunnerKey ?? "";
        // One pooled client for every runner: no proxy, no decompression, no cookies, no redirects (the answer is the client's).
        _client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            // Web traffic is not traced (decision 28): no outgoing-request activity or trace headers of our own per
            // request (a client's traceparent goes through as the client sent it).
            ActivityHeadersPropagator = null,
        });
    }

    public async Task ProxyAsync(HttpContext context, WebEndpoint endpoint)
    {
        if (_runnerKey.Length == 0)
        {
            await WebProblems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Servers not configured",
                "This Api has no Api:RunnerKey (the install's runner key), so it cannot reach server containers through their runners.");
            return;
        }
        if (!await ProxyAuth.AllowsAsync(context, endpoint))
        {
            return;
        }

        var routes = _routes.For(endpoint.Target.FunctionId);
        // A request without a body can go to a second container when the first turns out gone; one with a body cannot (it is streamed once).
        var retryable = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true;
        for (var attempt = 1; ; attempt++)
        {
            var (outcome, container) = await _routes.AcquireAsync(routes, _options.Value.ColdStartWait, context.RequestAborted);
            if (outcome != SlotOutcome.Acquired)
            {
                await RefuseAsync(context, endpoint, outcome);
                return;
            }
            bool missing;
            try
            {
                missing = await ForwardAsync(context, container!);
            }
            finally
            {
                _routes.Release(routes, container!);
            }
            if (!missing)
            {
                return;
            }
            _routes.Drop(routes, container!);
            if (!retryable || attempt == 2 || context.Response.HasStarted)
            {
                context.Response.Clear();
                await WebProblems.WriteAsync(context, StatusCodes.Status502BadGateway, "Container gone",
                    $"The container picked for {endpoint.Target.AppName}.{endpoint.FunctionName} stopped before it could take the request; try again.");
                return;
            }
            context.Response.Clear();
        }
    }

    /// <summary>Forwards to the container; true when it turned out gone (its runner does not have it, or cannot be reached) before any answer.</summary>
    private async Task<bool> ForwardAsync(HttpContext context, ContainerRoute container)
    {
        var transformer = (ContainerTransformer)(container.Transformer ??= new ContainerTransformer(container.ContainerId, _runnerKey));
        var error = await _forwarder.SendAsync(context, container.ForwarderPrefix, _client, RequestConfig, transformer);
        if (context.Items.Remove(ContainerTransformer.NotFoundKey))
        {
            return true;
        }
        if (error == ForwarderError.None || context.Response.HasStarted)
        {
            return false;
        }
        if (error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.UpgradeRequestCanceled)
        {
            return false; // The client went away.
        }
        if (error == ForwarderError.Request && context.Features.Get<IForwarderErrorFeature>()?.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError })
        {
            return true; // Its runner cannot be reached: as good as gone for this request.
        }
        context.Response.Clear();
        await WebProblems.WriteAsync(context, error == ForwarderError.RequestTimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
            "Container failed the request", $"The request to container '{container.ContainerId}' failed ({error}).");
        return false;
    }

    private static Task RefuseAsync(HttpContext context, WebEndpoint endpoint, SlotOutcome outcome)
    {
        if (outcome == SlotOutcome.Gone)
        {
            return WebProblems.WriteAsync(context, StatusCodes.Status404NotFound, "Endpoint not found",
                $"App '{endpoint.Target.AppName}' stopped; its endpoints are gone.");
        }
        context.Response.Headers.RetryAfter = "1";
        return WebProblems.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "No container available",
            outcome == SlotOutcome.Full
                ? $"Too many requests are waiting for {endpoint.Target.AppName}.{endpoint.FunctionName}; try again shortly."
                : $"No container of {endpoint.Target.AppName}.{endpoint.FunctionName} had a free slot in time (containers may still be starting); try again shortly.");
    }

    public void Dispose() => _client.Dispose();

    /// <summary>
    /// The ingress's request to a runner: YARP's defaults (headers copied, X-Forwarded-For/Proto/Host/Prefix set, the
    /// original Host dropped) plus the container and the runner key; the client's own copies of those two are replaced.
    /// </summary>
    private sealed class ContainerTransformer(string containerId, string runnerKey) : HttpTransformer
    {
        public static readonly object NotFoundKey = new();

        public override async ValueTask TransformRequestAsync(
            HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await Default.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.Headers.Remove(WebHeaders.ContainerId);
            proxyRequest.Headers.Remove(ApiHeaders.RunnerKey);
            proxyRequest.Headers.TryAddWithoutValidation(WebHeaders.ContainerId, containerId);
            proxyRequest.Headers.TryAddWithoutValidation(ApiHeaders.RunnerKey, runnerKey);
        }

        public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            if (proxyResponse is { StatusCode: HttpStatusCode.NotFound } && proxyResponse.Headers.TryGetValues(WebHeaders.ForwarderError, out var values)
                && values.Contains(WebHeaders.ContainerNotFound))
            {
                // Not the app's 404: nothing of this answer goes to the client; the caller drops the container.
                httpContext.Items[NotFoundKey] = NotFoundKey;
                return ValueTask.FromResult(false);
            }
            return Default.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        }

        public override ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken) =>
            Default.TransformResponseTrailersAsync(httpContext, proxyResponse, cancellationToken);
    }
}
