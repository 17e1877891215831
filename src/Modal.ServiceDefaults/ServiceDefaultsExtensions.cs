using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every Modal.Platform service shares: OpenTelemetry (exported to the Aspire dashboard over OTLP),
/// health endpoints, service discovery and resilient HTTP clients.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Health checks tagged with this run for <c>/alive</c> (the process is up, not its stores).</summary>
    public const string LiveTag = "live";

    /// <summary>MassTransit's ActivitySource and Meter name (MassTransit.Logging.DiagnosticHeaders.DefaultListenerName).</summary>
    private const string MassTransitInstrumentationName = "MassTransit";

    /// <param name="builder">The service's builder.</param>
    /// <param name="traceIncomingRequests">
    /// False for a service whose HTTP server takes only requests that are never traced (health probes and web traffic:
    /// a runner): ASP.NET Core's tracing instrumentation would then record nothing, yet still hook every request (a
    /// diagnostic listener's callbacks and a sampling decision per request on the web hot path, issue 18). Its request
    /// metrics are kept either way.
    /// </param>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, bool traceIncomingRequests = true) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry(traceIncomingRequests);
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        builder.Services.AddProblemResponses();
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder, bool traceIncomingRequests = true) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var ingressBaseDomain = builder.Configuration["Ingress:BaseDomain"] is { Length: > 0 } domain ? domain : Modal.Api.Contracts.Web.WebHeaders.DefaultBaseDomain;
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(MassTransitInstrumentationName)
                // Kestrel counts every 4 KiB block it rents and returns (.NET 10): on an upload that is an aggregator
                // update per socket read, ≈ 6 % of Storage's CPU relaying a large Volume file. What the pool allocates
                // and evicts is still measured.
                .AddView("aspnetcore.memory_pool.rented", MetricStreamConfiguration.Drop)
                .AddView("aspnetcore.memory_pool.pooled", MetricStreamConfiguration.Drop))
            .WithTracing(tracing => tracing
                // Aspire sets OTEL_TRACES_SAMPLER=always_on, which records a span even under a parent marked "not
                // sampled": the children of a filtered-out request (a blob's S3 requests, a map page's sends) and of an
                // UnsampledTrace would each become a trace of their own. Set here, this sampler wins over the variable.
                .SetSampler(new ParentBasedSampler(new AlwaysOnSampler()))
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(MassTransitInstrumentationName)
                .AddHttpClientInstrumentation());
        if (traceIncomingRequests)
        {
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
                // Health probes would drown the traces the dashboard exists to show. Web traffic (the ingress's, the
                // runners' web forwarders') is not traced per request either: a span per request in two processes, exported
                // to the dashboard, cost more than the whole proxying on a small node (docs/benchmarks.md, issue 18);
                // its metrics are still kept, and a web function's call is traced as any call is.
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = context =>
                    !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                    && !context.Request.Path.StartsWithSegments(AliveEndpointPath)
                    && !IsWebTraffic(context.Request, ingressBaseDomain)));
        }

        // Aspire sets OTEL_EXPORTER_OTLP_ENDPOINT for every resource; outside Aspire nothing is exported.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>
    /// A request to a web endpoint: at the ingress (a host under its base domain, or the path form <c>/web/…</c>) or at a
    /// runner's web forwarder (it names a container).
    /// </summary>
    private static bool IsWebTraffic(HttpRequest request, string ingressBaseDomain) =>
        request.Headers.ContainsKey(Modal.Api.Contracts.Web.WebHeaders.ContainerId)
        || request.Path.StartsWithSegments(Modal.Api.Contracts.Web.WebHeaders.PathPrefix.TrimEnd('/'))
        || request.Host.Host.EndsWith("." + ingressBaseDomain, StringComparison.OrdinalIgnoreCase);

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        return builder;
    }

    /// <summary>
    /// Outside Development an unhandled exception answers RFC 7807 problem details (500, a title and the trace id, by
    /// <see cref="ProblemDetailsServiceCollectionExtensions.AddProblemDetails(IServiceCollection)"/>) and is logged here;
    /// without this it answers an empty 500. Development keeps its exception page, which shows the stack trace and the
    /// request's headers (a bearer token, a storage credential): only on a developer's own machine.
    /// </summary>
    public static WebApplication UseDefaultExceptionHandler(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler();
        }
        return app;
    }

    private const string HealthEndpointPath = "/health";
    private const string AliveEndpointPath = "/alive";

    /// <summary>
    /// <c>/health</c>: every check, including each store the service depends on (readiness);
    /// <c>/alive</c>: only the process itself (liveness). Both answer a JSON report with each check's status.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions
        {
            ResponseWriter = HealthReportWriter.WriteAsync,
            // MassTransit reports a broker outage as Degraded (its endpoints are faulted): for readiness that is
            // not ready, so it answers 503 rather than ASP.NET's default 200.
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        });
        app.MapHealthChecks(AliveEndpointPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(LiveTag),
            ResponseWriter = HealthReportWriter.WriteAsync,
        });
        return app;
    }
}
