using MassTransit;
using Modal.Contracts.Apps;
using Modal.Scheduler.Autoscaling;
using Modal.Scheduler.Schedules;
using Modal.ServiceDefaults;

namespace Modal.Scheduler.Hosting;

/// <summary>At start, asks the Api for every deployed app, so a Scheduler that was down scales (and schedules) their functions too.</summary>
public sealed partial class DeployedAppsSync(
    IBus bus, ScalingState state, ScalingLoop loop, ScheduleBook schedules, ScheduleRegistrar registrar, ILogger<DeployedAppsSync> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Deployments arriving before the answer still reach ScalingEventsConsumer.
        if (await StartupRequest.SendUntilAnsweredAsync<ListDeployedAppsToScale, DeployedApps>(bus, new ListDeployedAppsToScale(), logger, stoppingToken)
            is not { } deployed)
        {
            return;
        }
        foreach (var app in deployed.Apps)
        {
            state.Deploy(app);
            schedules.Deploy(app);
        }
        // Only now may an app this Scheduler never heard of lose its schedules: the list holds every deployed app.
        schedules.MarkComplete();
        loop.Wake();
        registrar.Wake();
        LogSynced(logger, deployed.Apps.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scaling the functions of {AppCount} deployed apps")]
    private static partial void LogSynced(ILogger logger, int appCount);
}
