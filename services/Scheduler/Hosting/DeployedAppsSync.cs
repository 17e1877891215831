using MassTransit;
using Modal.Contracts.Apps;
using Modal.Scheduler.Autoscaling;

namespace Modal.Scheduler.Hosting;

/// <summary>At start, asks the Api for every deployed app, so a Scheduler that was down scales their functions too.</summary>
public sealed partial class DeployedAppsSync(IBus bus, ScalingState state, ScalingLoop loop, ILogger<DeployedAppsSync> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var requests = bus.CreateRequestClient<ListDeployedApps>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var response = await requests.GetResponse<DeployedApps>(
                    new ListDeployedApps { RunnerId = "scheduler" }, stoppingToken, RequestTimeout.After(s: 10));
                foreach (var app in response.Message.Apps)
                {
                    state.Deploy(app);
                }
                loop.Wake();
                LogSynced(logger, response.Message.Apps.Count);
                return;
            }
            catch (Exception e) when (e is RequestTimeoutException or RequestFaultException or MassTransitException && !stoppingToken.IsCancellationRequested)
            {
                // The Api may not be up yet; deployments arriving meanwhile still reach ScalingEventsConsumer.
                LogSyncRetry(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scaling the functions of {AppCount} deployed apps")]
    private static partial void LogSynced(ILogger logger, int appCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not list deployed apps yet ({Reason}); retrying")]
    private static partial void LogSyncRetry(ILogger logger, string reason);
}
