using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Modal.GpuRunner.Hosting;

/// <summary>
/// When the last heartbeat reached the broker. A runner whose heartbeats don't arrive is treated as gone by
/// the Scheduler, so the runner reports itself unhealthy at the same point instead of looking fine.
/// </summary>
public sealed class HeartbeatStatus(TimeProvider clock)
{
    private readonly DateTimeOffset _startedAt = clock.GetUtcNow();
    private long _lastSuccessTicks;

    public DateTimeOffset? LastSucceededAt =>
        Interlocked.Read(ref _lastSuccessTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public DateTimeOffset StartedAt => _startedAt;

    public void Succeeded(DateTimeOffset at) => Interlocked.Exchange(ref _lastSuccessTicks, at.UtcTicks);
}

/// <summary>Unhealthy once three heartbeat intervals pass without a heartbeat reaching the broker.</summary>
public sealed class HeartbeatHealthCheck(HeartbeatStatus status, IOptions<GpuRunnerOptions> options, TimeProvider clock) : IHealthCheck
{
    private const int MissedBeatsAllowed = 3;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var allowedSilence = options.Value.HeartbeatInterval * MissedBeatsAllowed;
        var lastBeat = status.LastSucceededAt ?? status.StartedAt;
        var silence = clock.GetUtcNow() - lastBeat;
        return Task.FromResult(silence <= allowedSilence
            ? HealthCheckResult.Healthy(status.LastSucceededAt is null ? "Starting: no heartbeat sent yet." : $"Last heartbeat at {lastBeat:O}.")
            : new HealthCheckResult(context.Registration.FailureStatus,
                $"No heartbeat has reached the broker for {silence.TotalSeconds:0.#} s; the Scheduler will treat this runner as gone."));
    }
}
