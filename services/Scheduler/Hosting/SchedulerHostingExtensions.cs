using MassTransit;
using Modal.Scheduler.Autoscaling;
using Modal.Scheduler.Consumers;
using Modal.Scheduler.Infrastructure;

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
        builder.Services.AddSingleton<ScalingState>();
        builder.Services.AddSingleton<FunctionQueueBroker>();
        builder.Services.AddSingleton<ScalingLoop>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ScalingLoop>());
        builder.Services.AddHostedService<DeployedAppsSync>();
        builder.AddModalMessageBus(bus =>
        {
            bus.AddConsumer<RunnerCapacityReportedConsumer>();
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
