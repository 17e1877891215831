using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Containers;
using Modal.GpuRunner.Domain;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// The containers of this node, started and stopped when the Scheduler says so (<see cref="StartContainer"/>,
/// <see cref="StopContainer"/>), each holding the GPUs the Scheduler chose. Ties a container's start
/// (<see cref="ContainerStarter"/>) to its input slots (<see cref="InputSlots"/>) and tells the bus when it comes and
/// goes. A container stops gracefully: it takes no new input, finishes the ones it runs, then its [Exit] hooks run.
/// </summary>
public sealed partial class ContainerPool : IAsyncDisposable
{
    private readonly InputSlots _slots;
    private readonly ContainerStarter _starter;
    private readonly ContainerCredentials _credentials;
    private readonly IBus _bus;
    private readonly IOptions<GpuRunnerOptions> _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<ContainerPool> _logger;

    public ContainerPool(
        InputSlots slots, ContainerStarter starter, ContainerCredentials credentials, IBus bus, IOptions<GpuRunnerOptions> options,
        TimeProvider clock, ILogger<ContainerPool> logger)
    {
        _slots = slots;
        _starter = starter;
        _credentials = credentials;
        _bus = bus;
        _options = options;
        _clock = clock;
        _logger = logger;
        // A container meant for one input has run it: it goes.
        slots.Spent += container => _ = FinishAsync(container, container.Failure is not null ? StopReasons.StartFailed : StopReasons.SingleUse);
    }

    /// <summary>Starts the container the Scheduler placed here; throws <see cref="GpusTakenException"/> when a chosen GPU is held.</summary>
    public async Task StartAsync(StartContainer command, CatalogEntry entry)
    {
        var allocated = _starter.AllocateGpus(command);
        var function = entry.Function;
        var pooled = new PooledContainer(command.ContainerId, entry.ContainerGroup, function.FunctionId, entry.AppId, entry.BundleId,
            function.SingleUseContainers ? 1 : Math.Max(1, function.MaxConcurrentInputs), function.SingleUseContainers,
            command.GpuIndices, _clock.GetUtcNow());
        if (!_slots.TryAdd(pooled))
        {
            _starter.ReleaseGpus(command.ContainerId);
            return; // The same command delivered twice: the container is there already.
        }
        try
        {
            pooled.Process = await _starter.StartAsync(entry, pooled.Id, allocated);
        }
        catch (Exception e) when (e is ContainerCrashedException or ContainerOutOfMemoryException or Secrets.ContainerSecretsException
            or HttpRequestException or IOException)
        {
            // Kept for one input, which fails saying why (a missing secret, a crash in [Enter]); then it is gone and the
            // Scheduler may try again (the secret may exist by then).
            _starter.ReleaseGpus(pooled.Id);
            pooled.Failure = e;
            LogStartFailed(_logger, pooled.Id, entry.AppName, function.Name, e.Message);
        }
        if (pooled.Process is { } started)
        {
            _ = WatchForCrashAsync(pooled, started);
            LogContainerStarted(_logger, pooled.Id, entry.AppName, function.Name, entry.BundleId);
            await _bus.Publish(new ContainerStarted
            {
                ContainerId = pooled.Id, RunnerId = _options.Value.RunnerId, FunctionId = function.FunctionId, AppName = entry.AppName,
                FunctionName = function.Name, BundleId = entry.BundleId, StartedAt = _clock.GetUtcNow(),
            });
        }
        _slots.Open(pooled);
        if (pooled.StopRequested)
        {
            await StopAsync(pooled.Id, StopReasons.ScaledDown);
        }
    }

    /// <summary>
    /// Stops a container gracefully: it takes no new input, the ones it runs finish, then it stops ([Exit] hooks run,
    /// Volume changes are committed). Returns at once; the stop completes in the background.
    /// </summary>
    public Task StopAsync(string containerId, string reason) =>
        _slots.Close(containerId) is { } closed ? DrainAndFinishAsync(closed, reason) : Task.CompletedTask;

    /// <summary>Kills a container at once (its input timed out or was cancelled with its container, or it crashed).</summary>
    public async Task RemoveAsync(ContainerProcess container, string reason)
    {
        container.Kill();
        if (_slots.Close(container) is { } closed)
        {
            await FinishAsync(closed, reason);
        }
    }

    /// <summary>Stops every container of an app gracefully: running inputs finish or are cut off, [Exit] hooks run.</summary>
    public async Task StopAppAsync(Guid appId)
    {
        _credentials.Forget(appId);
        // At once, not draining: the app's queued inputs fail and its running ones are cut off, as Modal's app stop does.
        await Task.WhenAll(_slots.Find(c => c.AppId == appId).Select(c => FinishAsync(c, StopReasons.AppStopped)));
    }

    /// <summary>An app was redeployed: its containers running another bundle stop once their inputs finish.</summary>
    public Task StopOutdatedAsync(Guid appId, string bundleId) =>
        Task.WhenAll(_slots.Find(c => c.AppId == appId && c.BundleId != bundleId).Select(c => StopAsync(c.Id, StopReasons.Replaced)));

    public async ValueTask DisposeAsync() =>
        await Task.WhenAll(_slots.Find(_ => true).Select(c => FinishAsync(c, StopReasons.RunnerStopping)));

    private async Task DrainAndFinishAsync(PooledContainer pooled, string reason)
    {
        if (!_slots.IsIdle(pooled))
        {
            await pooled.Drained.Task;
        }
        await FinishAsync(pooled, reason);
    }

    /// <summary>Forgets the container and stops its process (once, whoever calls first), then tells the bus.</summary>
    private async Task FinishAsync(PooledContainer pooled, string reason)
    {
        if (!_slots.Remove(pooled))
        {
            return;
        }
        if (pooled.Process is { } process)
        {
            await process.DisposeAsync();
        }
        // As on Modal, a container's Volume changes are committed when it stops (not when it crashed or never started).
        await _starter.ReleaseAsync(pooled.Id,
            commitVolumes: pooled.Process is not null && reason is not (StopReasons.Crashed or StopReasons.OutOfMemory));
        await _bus.Publish(new ContainerStopped
        {
            ContainerId = pooled.Id, RunnerId = _options.Value.RunnerId, FunctionId = pooled.FunctionId, Reason = reason,
            StoppedAt = _clock.GetUtcNow(),
        });
    }

    /// <summary>A container that dies between inputs is forgotten at once, so the next input is not given to it.</summary>
    private async Task WatchForCrashAsync(PooledContainer pooled, ContainerProcess process)
    {
        await process.Exited;
        if (_slots.IsIdleMember(pooled))
        {
            await FinishAsync(pooled, _starter.WasOutOfMemory(pooled.Id) ? StopReasons.OutOfMemory : StopReasons.Crashed);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} started for {App}.{Function} (bundle {BundleId})")]
    private static partial void LogContainerStarted(ILogger logger, string containerId, string app, string function, string bundleId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId} of {App}.{Function} could not start: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string containerId, string app, string function, string reason);
}
