using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Apps;
using Modal.GpuRunner.Consumers;
using Modal.ServiceDefaults;

namespace Modal.GpuRunner.Hosting;

/// <summary>At start, asks the Api for every deployed app, so a runner that was down can run their containers too.</summary>
public sealed partial class DeployedAppsSync(
    IBus bus, FunctionSubscriptions subscriptions, IOptions<GpuRunnerOptions> options, ILogger<DeployedAppsSync> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Deployments arriving before the answer are still picked up by AppDeployedConsumer.
        if (await StartupRequest.SendUntilAnsweredAsync<ListDeployedApps, DeployedApps>(
                bus, new ListDeployedApps { RunnerId = options.Value.RunnerId }, logger, stoppingToken) is not { } deployed)
        {
            return;
        }
        foreach (var app in deployed.Apps)
        {
            await subscriptions.AddAsync(app, stoppingToken);
        }
        LogSynced(logger, deployed.Apps.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming the functions of {AppCount} deployed apps")]
    private static partial void LogSynced(ILogger logger, int appCount);
}
