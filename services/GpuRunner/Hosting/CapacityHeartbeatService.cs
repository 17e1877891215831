using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Runners;
using Modal.GpuRunner.Domain;

namespace Modal.GpuRunner.Hosting;

/// <summary>Publishes <see cref="RunnerCapacityReported"/> every heartbeat interval for as long as the node runs.</summary>
public sealed partial class CapacityHeartbeatService(
    IBus bus, GpuInventory inventory, IOptions<GpuRunnerOptions> options, TimeProvider clock, ILogger<CapacityHeartbeatService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.HeartbeatInterval, clock);
        do
        {
            try
            {
                await bus.Publish(new RunnerCapacityReported
                {
                    RunnerId = settings.RunnerId,
                    Gpus = inventory.Snapshot(),
                    CpuCores = settings.CpuCores,
                    MemoryMiB = settings.MemoryMiB,
                    ReportedAt = clock.GetUtcNow(),
                }, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The broker may be down; the next beat tries again and the health check reports the outage.
                LogHeartbeatFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the capacity heartbeat")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception);
}
