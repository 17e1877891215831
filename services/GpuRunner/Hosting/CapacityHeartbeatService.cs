using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Runners;
using Modal.GpuRunner.Domain;

namespace Modal.GpuRunner.Hosting;

/// <summary>Publishes <see cref="RunnerCapacityReported"/> every heartbeat interval for as long as the node runs.</summary>
public sealed partial class CapacityHeartbeatService(
    IBus bus, GpuInventory inventory, Containers.InputSlots containers, Web.WebForwarderAddress forwarder, HeartbeatStatus status,
    IOptions<GpuRunnerOptions> options, TimeProvider clock, ILogger<CapacityHeartbeatService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.HeartbeatInterval, clock);
        do
        {
            // While the broker is down a publish waits for the reconnect; a beat that misses its slot is dropped,
            // the next one carries fresher capacity anyway.
            using var beat = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            beat.CancelAfter(settings.HeartbeatInterval);
            try
            {
                await bus.Publish(new RunnerCapacityReported
                {
                    RunnerId = settings.RunnerId,
                    Gpus = inventory.Snapshot(),
                    CpuCores = settings.CpuCores,
                    MemoryMiB = settings.MemoryMiB,
                    ReportedAt = clock.GetUtcNow(),
                    Containers = containers.Describe(),
                    WebForwarderUrl = forwarder.Url,
                }, beat.Token);
                status.Succeeded(clock.GetUtcNow());
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogHeartbeatFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish the capacity heartbeat")]
    private static partial void LogHeartbeatFailed(ILogger logger, Exception exception);
}
