using MassTransit;
using Modal.Scheduler.Autoscaling;
using Modal.Scheduler.Consumers;
using Modal.Scheduler.Infrastructure;
using Modal.Scheduler.Leadership;
using Modal.Scheduler.Placement;
using Modal.Scheduler.Schedules;
using Quartz;

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
        // Made here, not by the container: Quartz's cluster needs the instance's id while services are still being added.
        var instance = new SchedulerInstance();
        builder.Services.AddSingleton(instance);
        builder.Services.AddSingleton(services => ActivatorUtilities.CreateInstance<LeaderLease>(services, LeaderLease.SchedulerLeaseName));
        // Registered before the scaling loop: hosted services stop in reverse order, so the loop has stopped sending
        // commands before the lease is released to another instance.
        builder.Services.AddHostedService(services => services.GetRequiredService<LeaderLease>());
        builder.Services.AddSingleton<ScalingState>();
        builder.Services.AddSingleton<FunctionQueueBroker>();
        builder.Services.AddSingleton<GpuUnavailableInputs>();
        builder.Services.AddSingleton<ScalingLoop>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ScalingLoop>());
        builder.Services.AddHostedService<DeployedAppsSync>();
        builder.AddSchedules(instance);
        builder.AddModalMessageBus(bus =>
        {
            bus.AddConsumer<RunnerCapacityReportedConsumer, RunnerCapacityReportedConsumerDefinition>();
            bus.AddConsumer<ScalingEventsConsumer, ScalingEventsConsumerDefinition>();
            bus.AddConsumer<FunctionCallQueuedConsumer, FunctionCallQueuedConsumerDefinition>();
            bus.AddConsumer<FunctionScalingConsumer, FunctionScalingConsumerDefinition>();
            bus.AddConsumer<WebEndpointDemandConsumer, WebEndpointDemandConsumerDefinition>();
            bus.AddConsumer<AppSchedulesConsumer, AppSchedulesConsumerDefinition>();
            // Connected per function, on its queue, only while no runner has its GPU type (GpuUnavailableInputs).
            bus.AddConsumer<GpuUnavailableConsumer>().ExcludeFromConfigureEndpoints();
        });

        builder.Services.AddOpenApi();
        return builder;
    }

    /// <summary>
    /// Functions' schedules: Quartz with its persistent store in the Scheduler's PostgreSQL database, clustered, so every
    /// Scheduler instance fires what is registered and each tick fires on one of them (Quartz's row locks), and a
    /// dead instance's firings are taken over after about two <see cref="SchedulerOptions.ClusterCheckinInterval"/>s.
    /// Registration is the leader's (<see cref="ScheduleRegistrar"/>).
    /// </summary>
    private static void AddSchedules(this WebApplicationBuilder builder, SchedulerInstance instance)
    {
        var settings = builder.Configuration.GetSection(SchedulerOptions.SectionName).Get<SchedulerOptions>() ?? new SchedulerOptions();
        var connectionString = builder.Configuration.GetConnectionString(SchedulerDbContext.ConnectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{SchedulerDbContext.ConnectionName} is missing: Quartz keeps schedules in the Scheduler's database.");
        builder.Services.AddSingleton<ScheduleBook>();
        builder.Services.AddSingleton<ScheduleRegistrar>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ScheduleRegistrar>());
        builder.Services.AddQuartz(quartz =>
        {
            quartz.ConfigureScheduler(scheduler =>
            {
                // One name for the whole cluster (Quartz's rows are keyed by it); one id per instance.
                scheduler.InstanceName = "modal-schedules";
                scheduler.InstanceId = instance.Id;
                scheduler.DefaultTimeZone = TimeZoneInfo.Utc;
            });
            quartz.UsePersistentStore(store =>
            {
                store.UsePostgres(connectionString);
                // Quartz creates its tables in the Scheduler's database on first start (never alters or drops them).
                store.ProvisionSchema();
                store.UseClustering(cluster =>
                {
                    cluster.CheckinInterval = settings.ClusterCheckinInterval;
                    cluster.CheckinMisfireThreshold = settings.ClusterCheckinInterval;
                });
                store.ConfigureStore(options =>
                {
                    options.MisfireThreshold = settings.MisfireThreshold;
                    // Job data are strings only (ids, names): kept readable in the table.
                    options.StoreJobDataAsStrings = true;
                });
            });
        });
        builder.Services.AddQuartzHostedService(hosted => hosted.WaitForJobsToComplete = true);
    }

    public static Task MigrateSchedulerDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default) =>
        app.Services.MigrateDatabaseAsync<SchedulerDbContext>(cancellationToken: cancellationToken);
}
