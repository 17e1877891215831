using MassTransit;
using Modal.Scheduler.Autoscaling;
using Modal.Scheduler.Consumers;
using Modal.Scheduler.Infrastructure;
using Modal.Scheduler.Leadership;

namespace Modal.Scheduler.Hosting;

public static class SchedulerHostingExtensions
{
    public static WebApplicationBuilder AddSchedulerServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SchedulerOptions>()
            .BindConfiguration(SchedulerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);

        builder.AddNpgsqlDbContext<SchedulerDbContext>(SchedulerDbContext.ConnectionName);
        builder.Services.AddSingleton<SchedulerInstance>();
        builder.Services.AddSingleton(services => ActivatorUtilities.CreateInstance<LeaderLease>(services, LeaderLease.SchedulerLeaseName));
        // Registered before the scaling loop: hosted services stop in reverse order, so the loop has stopped sending
        // commands before the lease is released to another instance.
        builder.Services.AddHostedService(services => services.GetRequiredService<LeaderLease>());
        builder.Services.AddSingleton<ScalingState>();
        builder.Services.AddSingleton<FunctionQueueBroker>();
        builder.Services.AddSingleton<ScalingLoop>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ScalingLoop>());
        builder.Services.AddHostedService<DeployedAppsSync>();
        builder.AddModalMessageBus(bus =>
        {
            bus.AddConsumer<RunnerCapacityReportedConsumer, RunnerCapacityReportedConsumerDefinition>();
            bus.AddConsumer<ScalingEventsConsumer, ScalingEventsConsumerDefinition>();
            bus.AddConsumer<FunctionCallQueuedConsumer, FunctionCallQueuedConsumerDefinition>();
            bus.AddConsumer<FunctionScalingConsumer, FunctionScalingConsumerDefinition>();
            bus.AddConsumer<WebEndpointDemandConsumer, WebEndpointDemandConsumerDefinition>();
        });

        builder.Services.AddOpenApi();
        return builder;
    }

    public static Task MigrateSchedulerDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default) =>
        app.Services.MigrateDatabaseAsync<SchedulerDbContext>(cancellationToken: cancellationToken);
}
