using MassTransit;
using Microsoft.Extensions.Options;
using Modal.GpuRunner.Bundles;
using Modal.GpuRunner.Calls;
using Modal.GpuRunner.Consumers;
using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Infrastructure;
using Modal.GpuRunner.Platform;
using Modal.GpuRunner.Volumes;
using Modal.GpuRunner.Secrets;
using Modal.GpuRunner.Web;

namespace Modal.GpuRunner.Hosting;

public static class GpuRunnerHostingExtensions
{
    public static WebApplicationBuilder AddGpuRunnerServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GpuRunnerOptions>()
            .BindConfiguration(GpuRunnerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddStorageCredentials();
        builder.Services.AddSingleton<GpuInventory>();

        builder.Services.AddTransient<StorageWorkspace.StorageCredentialHandler>();
        builder.Services.AddHttpClient(BundleCache.StorageClientName, (services, http) =>
            http.BaseAddress = services.GetRequiredService<IOptions<GpuRunnerOptions>>().Value.StorageUrl)
            .AddHttpMessageHandler<StorageWorkspace.StorageCredentialHandler>();
        builder.Services.AddSingleton<BundleCache>();
        builder.Services.AddSingleton<ContainerVolumes>();
        builder.Services.AddContainerSecrets();
        builder.Services.AddSingleton<FunctionCatalog>();
        builder.Services.AddSingleton<ContainerIsolation>();
        builder.Services.AddSingleton<InputSlots>();
        builder.Services.AddSingleton<ContainerEnvironment>();
        builder.Services.AddSingleton<GpuNodeLibraries>();
        builder.Services.AddSingleton<ContainerStarter>();
        builder.Services.AddSingleton(services => new Images.ImageSandbox(services.GetRequiredService<Microsoft.Extensions.Options.IOptions<GpuRunnerOptions>>().Value));
        builder.Services.AddSingleton<Images.ImageRoots>();
        builder.Services.AddSingleton<Images.ImageBuilder>();
        builder.Services.AddSingleton<ContainerPool>();
        // The web forwarder (a middleware of the runner's own server) sends ingresses' requests to server containers.
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton<WebForwarderAddress>();
        builder.Services.AddSingleton<InputAttempts>();
        builder.Services.AddSingleton<ContainerCredentials>();
        builder.Services.AddSingleton<FunctionSubscriptions>();
        builder.Services.AddSingleton<RunningCalls>();
        builder.Services.AddSingleton<PayloadBlobs>();
        builder.Services.AddSingleton<DelayQueues>();
        builder.Services.AddSingleton<MapOutputPublisher>();
        builder.Services.AddSingleton<CallLogShipper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CallLogShipper>());

        // Listening before the bus starts: no container starts before its way to the platform is there.
        builder.Services.AddSingleton<PlatformSocket>();
        builder.Services.AddHostedService(services => services.GetRequiredService<PlatformSocket>());

        builder.AddModalMessageBus(bus =>
        {
            // Function queues are connected at run time, while this runner has containers of the function (FunctionSubscriptions).
            bus.AddConsumer<RunFunctionConsumer>().ExcludeFromConfigureEndpoints();
            bus.AddConsumer<RunMapInputsConsumer>().ExcludeFromConfigureEndpoints();
            bus.AddConsumer<StartContainerConsumer, StartContainerConsumerDefinition>();
            bus.AddConsumer<StopContainerConsumer, StopContainerConsumerDefinition>();
            bus.AddConsumer<AppDeployedConsumer, AppDeployedConsumerDefinition>();
            bus.AddConsumer<AppStoppedConsumer, AppStoppedConsumerDefinition>();
            bus.AddConsumer<FunctionCallCancelledConsumer, FunctionCallCancelledConsumerDefinition>();
            bus.AddConsumer<Images.BuildImageConsumer, Images.BuildImageConsumerDefinition>();
        });
        // Stops before the bus does (hosted services stop in reverse order): the tokens it holds are revoked while it can.
        builder.Services.AddHostedService(services => services.GetRequiredService<ContainerCredentials>());
        builder.Services.AddHostedService<DeployedAppsSync>();
        builder.Services.AddSingleton<HeartbeatStatus>();
        builder.Services.AddHostedService<CapacityHeartbeatService>();
        builder.Services.AddHealthChecks()
            .AddCheck<HeartbeatHealthCheck>("heartbeat")
            .AddCheck<ContainerIsolationHealthCheck>("container-isolation");
        return builder;
    }
}
