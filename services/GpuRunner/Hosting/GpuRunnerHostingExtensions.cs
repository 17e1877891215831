using Modal.GpuRunner.Domain;

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
        builder.Services.AddSingleton<GpuInventory>();

        builder.AddModalMessageBus();
        builder.Services.AddSingleton<HeartbeatStatus>();
        builder.Services.AddHostedService<CapacityHeartbeatService>();
        builder.Services.AddHealthChecks().AddCheck<HeartbeatHealthCheck>("heartbeat");
        return builder;
    }
}
