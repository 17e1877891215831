using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Web;
using Modal.GpuRunner.Containers;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.GpuRunner.Web;

/// <summary>
/// The runner's web forwarder, in front of everything on the runner's own server: a request naming a container in
/// <see cref="WebHeaders.ContainerId"/> is sent, path and query unchanged and bodies streamed both ways (server-sent
/// events and WebSocket upgrades included), to that server container's app (<see cref="WebContainer"/>). Only ingresses
/// may: the request must carry the install's runner key (<see cref="ApiHeaders.RunnerKey"/>, compared in constant time);
/// both headers are taken off before the request goes on, and nothing is added (the ingress set the X-Forwarded-*
/// headers). Answers, all problem details: 401 for a missing or wrong key, 503 when this runner has no key, 404 ("Container
/// not found") when the container is not a ready server container here (the ingress drops it and picks another), 502
/// when the container refused, reset or died during the request, 504 when it stayed silent past the function's timeout.
/// Requests without the header go on to the runner's own endpoints.
/// </summary>
public sealed partial class WebForwarder(
    RequestDelegate next, InputSlots slots, IHttpForwarder forwarder, IOptions<GpuRunnerOptions> options, ILogger<WebForwarder> logger)
{
    private readonly byte[]? _runnerKey = options.Value.RunnerKey is { Length: > 0 } key ? Encoding.UTF8.GetBytes(key) : null;

    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.Headers.TryGetValue(WebHeaders.ContainerId, out var containerIds))
        {
            await next(context);
            return;
        }
        if (_runnerKey is null)
        {
            await Problem(context, StatusCodes.Status503ServiceUnavailable, "Web forwarder not configured",
                $"Runner {options.Value.RunnerId} has no GpuRunner:RunnerKey, so it forwards no web requests; give it the install's runner key.");
            return;
        }
        var presented = Encoding.UTF8.GetBytes(context.Request.Headers[ApiHeaders.RunnerKey].ToString());
        if (!CryptographicOperations.FixedTimeEquals(presented, _runnerKey))
        {
            await Problem(context, StatusCodes.Status401Unauthorized, "Runner credential required",
                $"Only ingresses reach containers through the web forwarder; present the runner key in '{ApiHeaders.RunnerKey}'.");
            return;
        }
        var containerId = containerIds.ToString();
        if (slots.BeginWebRequest(containerId) is not { } request)
        {
            await Problem(context, StatusCodes.Status404NotFound, "Container not found",
                $"Container '{containerId}' is not a server container ready for requests on runner {options.Value.RunnerId} (never was, stopping, or gone).",
                WebHeaders.ContainerNotFound);
            return;
        }
        using (request.Lease)
        {
            var error = await forwarder.SendAsync(context, Destination, request.Container.Client, request.Container.RequestConfig, ContainerTransformer.Instance);
            if (error is ForwarderError.None or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
                or ForwarderError.ResponseBodyCanceled or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled)
            {
                return; // Done, or the ingress went away: no one to tell.
            }
            var reason = context.Features.Get<IForwarderErrorFeature>()?.Exception?.Message ?? error.ToString();
            LogForwardFailed(logger, containerId, error, reason);
            // Once the container's answer has begun the status is out: the forwarder has cut the connection instead.
            if (!context.Response.HasStarted)
            {
                var timedOut = error is ForwarderError.RequestTimedOut;
                await Problem(context, timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
                    timedOut ? "Container timed out" : "Container failed the request",
                    timedOut
                        ? $"Container '{containerId}' sent nothing for {request.Container.RequestConfig.ActivityTimeout?.TotalSeconds:0} s (its function's timeout)."
                        : $"Container '{containerId}' did not answer the request ({error}: {reason}).");
            }
        }
    }

    /// <summary>
    /// Where the forwarder sends requests: the handler's connect goes to the container whatever the address says, so
    /// this only makes the request's URI (path and query are the incoming request's).
    /// </summary>
    private const string Destination = "http://container/";

    private static Task Problem(HttpContext context, int status, string title, string detail, string? forwarderError = null)
    {
        // The forwarder may have set headers of the container's (a failed upgrade); a problem is an answer of its own.
        context.Response.Headers.Clear();
        if (forwarderError is not null)
        {
            // Tells the ingress this 404 is the forwarder's, not the app's: it drops the container and picks another.
            context.Response.Headers[WebHeaders.ForwarderError] = forwarderError;
        }
        return TypedResults.Problem(statusCode: status, title: title, detail: detail).ExecuteAsync(context);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Web forwarder: a request to container {ContainerId} failed ({Error}): {Reason}")]
    private static partial void LogForwardFailed(ILogger logger, string containerId, ForwarderError error, string reason);

    /// <summary>
    /// Copies the request as it came (its Host, the ingress's X-Forwarded-* headers), less the headers meant for this
    /// forwarder: the runner key must never reach user code.
    /// </summary>
    private sealed class ContainerTransformer : HttpTransformer
    {
        public static readonly ContainerTransformer Instance = new();

        public override async ValueTask TransformRequestAsync(
            HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.Headers.Remove(ApiHeaders.RunnerKey);
            proxyRequest.Headers.Remove(WebHeaders.ContainerId);
            proxyRequest.Headers.Host = httpContext.Request.Host.HasValue ? httpContext.Request.Host.Value : null;
        }
    }
}

/// <summary>Puts the web forwarder in front of the runner's pipeline.</summary>
public static class WebForwarderExtensions
{
    public static IApplicationBuilder UseWebForwarder(this IApplicationBuilder app) => app.UseMiddleware<WebForwarder>();
}
