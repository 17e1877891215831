using Microsoft.AspNetCore.Authentication;
using MassTransit;
using Modal.Api.Apps;
using Modal.Api.Authentication;
using Modal.Api.Calls;
using Microsoft.Extensions.Options;
using Modal.Api.Infrastructure;

namespace Modal.Api.Hosting;

public static class ApiHostingExtensions
{
    /// <summary>Name of the connection string that points at Redis (hot call state).</summary>
    public const string RedisConnectionName = "redis";

    public static WebApplicationBuilder AddApiServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiOptions>()
            .BindConfiguration(ApiOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Aspire's client integrations fail fast naming ConnectionStrings:<name> when it is missing,
        // and add a health check, retries and tracing for each store.
        builder.AddNpgsqlDbContext<ApiDbContext>(ApiDbContext.ConnectionName);
        builder.AddRedisClient(RedisConnectionName);
        builder.AddModalMessageBus(bus =>
        {
            bus.AddConsumer<CallResultConsumer, CallResultConsumerDefinition>();
            bus.AddConsumer<CallLogConsumer, CallLogConsumerDefinition>();
            bus.AddConsumer<Maps.MapOutputsConsumer, Maps.MapOutputsConsumerDefinition>();
            bus.AddConsumer<ListDeployedAppsConsumer>();
            bus.AddConsumer<IssueContainerTokenConsumer>();
            bus.AddConsumer<RevokeContainerTokenConsumer>();
            bus.AddConsumer<Web.ProxyTokenRevokedConsumer, Web.ProxyTokenRevokedConsumerDefinition>();
            bus.AddConsumer<Web.IngressEventsConsumer, Web.IngressEventsConsumerDefinition>();
            bus.AddConsumer<Schedules.ScheduleFiredConsumer, Schedules.ScheduleFiredConsumerDefinition>();
            bus.AddConsumer<Images.ImageBuildEventsConsumer, Images.ImageBuildEventsConsumerDefinition>();
        });
        builder.Services.AddSingleton<Schedules.ScheduleFirings>();
        builder.Services.AddSingleton<Images.ImageStore>();
        builder.Services.AddScoped<Images.ImageBuilds>();
        builder.Services.AddSingleton<CallStore>();
        builder.Services.AddSingleton<Maps.MapStore>();
        builder.Services.AddSingleton<CallTargets>();
        builder.Services.AddScoped<CallSubmitter>();
        builder.Services.AddOptions<Web.IngressOptions>()
            .BindConfiguration(Web.IngressOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<Web.WebEndpointDirectory>();
        builder.Services.AddSingleton<Web.ServerRoutes>();
        builder.Services.AddSingleton<Web.WebFunctionHandler>();
        builder.Services.AddSingleton<Web.ServerProxy>();
        builder.Services.AddSingleton<Web.WebUrls>();
        builder.Services.AddHostedService<Web.WebDemandReporter>();
        builder.Services.AddSingleton<ApiInstance>();
        builder.Services.AddSingleton<Web.ProxyTokenValidator>();
        builder.Services.AddScoped<AppRegistry>();
        builder.Services.AddSingleton<Modal.Api.Apps.AppLogStore>();
        builder.Services.AddHttpClient(PayloadBlobs.StorageClientName, (services, http) =>
            http.BaseAddress = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<ApiOptions>>().Value.StorageUrl);
        builder.Services.AddSingleton<PayloadBlobs>();
        builder.Services.AddHttpClient(SecretRequirements.SecretsClientName, (services, http) =>
            http.BaseAddress = services.GetRequiredService<IOptions<ApiOptions>>().Value.SecretsUrl);
        builder.Services.AddSingleton<SecretRequirements>();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddStorageCredentials();
        builder.Services.AddSecretCredentials();
        builder.Services.AddMemoryCache();
        builder.Services.AddAuthentication(TokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(TokenAuthenticationHandler.SchemeName, null);
        builder.Services.AddApiAuthorization();

        builder.Services.AddHttpForwarder();
        builder.Services.AddServiceDiscoveryForwarderFactory();

        if (!builder.Configuration.GetValue<bool>($"{ApiOptions.SectionName}:{nameof(ApiOptions.TraceMapData)}"))
        {
            // Untraced requests leave their bus messages untraced too (the trace context says "not sampled"), so the
            // slices a page is cut into and their runs on the runner are not traced either.
            builder.Services.PostConfigure<OpenTelemetry.Instrumentation.AspNetCore.AspNetCoreTraceInstrumentationOptions>(aspnet =>
            {
                var traced = aspnet.Filter;
                aspnet.Filter = context => !Endpoints.MapEndpoints.IsMapData(context.Request.Path) && (traced is null || traced(context));
            });
        }

        builder.Services.AddOpenApi();
        return builder;
    }

    /// <summary>Applies pending migrations; on a fresh install also creates the default workspace and its first token.</summary>
    public static Task MigrateApiDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        var options = app.Services.GetRequiredService<IOptions<ApiOptions>>().Value;
        var clock = app.Services.GetRequiredService<TimeProvider>();
        return app.Services.MigrateDatabaseAsync<ApiDbContext>(
            (db, token) => FirstTokenBootstrap.SeedAsync(db, options, clock, token), cancellationToken);
    }

    /// <summary>Every /v1 route requires a workspace token.</summary>
    public static RouteGroupBuilder MapApiV1(this WebApplication app) =>
        app.MapGroup("/v1").RequireAuthorization();
}
