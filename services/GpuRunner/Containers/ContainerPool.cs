using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Containers;
using Modal.Contracts.Web;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Web;

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
    private readonly WebForwarderAddress _forwarder;
    private readonly IBus _bus;
    private readonly IOptions<GpuRunnerOptions> _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<ContainerPool> _logger;

    // Apps stopped here, by id, with when: a start placed before the stop but arriving after it is refused. Kept for
    // an hour (no command waits that long in a runner's queue).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, DateTimeOffset> _stoppedApps = new();
    private static readonly TimeSpan StoppedAppMemory = TimeSpan.FromHours(1);

    public ContainerPool(
        InputSlots slots, ContainerStarter starter, ContainerCredentials credentials, WebForwarderAddress forwarder, IBus bus,
        IOptions<GpuRunnerOptions> options, TimeProvider clock, ILogger<ContainerPool> logger)
    {
        _forwarder = forwarder;
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

    /// <summary>
    /// Starts the container the Scheduler placed here; throws <see cref="GpusTakenException"/> when a chosen GPU is held
    /// and <see cref="AppStoppedException"/> when its app has stopped. A stop of its app while it starts stops it as
    /// soon as it has started.
    /// </summary>
    public async Task StartAsync(StartContainer command, CatalogEntry entry)
    {
        var allocated = _starter.AllocateGpus(command);
        var function = entry.Function;
        // A server container takes requests, not inputs: "single use" has no meaning for it (it would never be spent).
        var isServer = function.Web?.IsServer == true;
        var singleUse = function.SingleUseContainers && !isServer;
        var pooled = new PooledContainer(command.ContainerId, entry.ContainerGroup, function.FunctionId, entry.AppId, entry.BundleId,
            singleUse ? 1 : Math.Max(1, function.MaxConcurrentInputs), singleUse, command.GpuIndices, _clock.GetUtcNow())
        {
            IsWebServer = isServer,
        };
        if (!_slots.TryAdd(pooled))
        {
            _starter.ReleaseGpus(command.ContainerId);
            return; // The same command delivered twice: the container is there already.
        }
        // Looked at after the container is listed, while StopAppAsync marks the app before it lists its containers:
        // whichever comes second sees the other, so no container of a stopped app can slip through.
        if (_stoppedApps.ContainsKey(entry.AppId))
        {
            _slots.Remove(pooled);
            _starter.ReleaseGpus(pooled.Id);
            throw new AppStoppedException($"App {entry.AppName} ({entry.AppId}) was stopped; container {pooled.Id} is not started.");
        }
        try
        {
            var container = await _starter.StartAsync(entry, pooled.Id, allocated);
            pooled.Web = container.Web;
            pooled.Process = container.Process;
        }
        catch (Exception e) when (e is ContainerCrashedException or ContainerOutOfMemoryException or Secrets.ContainerSecretsException
            or HttpRequestException or IOException)
        {
            // Kept for one input, which fails saying why (a missing secret, a crash in [Enter]); then it is gone and the
            // Scheduler may try again (the secret may exist by then).
            _starter.ReleaseGpus(pooled.Id);
            pooled.Failure = e;
            LogStartFailed(_logger, pooled.Id, entry.AppName, function.Name, e.Message);
            if (isServer)
            {
                // No input comes to a server container to report its failure: it goes at once (ContainerStopped says
                // StartFailed), and the Scheduler starts another while requests wait for one.
                await FinishAsync(pooled, StopReasons.StartFailed);
                return;
            }
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
            await StopAsync(pooled.Id, pooled.PendingStopReason ?? StopReasons.ScaledDown);
        }
        else if (pooled.Web is { } web)
        {
            await AnnounceWebContainerAsync(pooled, web);
        }
    }

    /// <summary>Tells every ingress that a server container takes requests now, through this runner's web forwarder.</summary>
    private async Task AnnounceWebContainerAsync(PooledContainer pooled, WebContainer web)
    {
        if (_forwarder.Url is not { } url)
        {
            LogNoForwarderUrl(_logger, pooled.Id);
            return;
        }
        await _bus.Publish(new WebContainerReady
        {
            ContainerId = pooled.Id, RunnerId = _options.Value.RunnerId, FunctionId = pooled.FunctionId, ForwarderUrl = url,
            MaxConcurrentRequests = web.MaxConcurrentRequests, ReadyAt = _clock.GetUtcNow(),
        });
    }

    /// <summary>
    /// Stops a container gracefully: it takes no new input, the ones it runs finish, then it stops ([Exit] hooks run,
    /// Volume changes are committed). Returns at once; the stop completes in the background.
    /// </summary>
    public Task StopAsync(string containerId, string reason) =>
        _slots.Close(containerId, reason) is { } closed ? DrainAndFinishAsync(closed, reason) : Task.CompletedTask;

    /// <summary>Kills a container at once (its input timed out or was cancelled with its container, or it crashed).</summary>
    public async Task RemoveAsync(ContainerProcess container, string reason)
    {
        container.Kill();
        if (_slots.Close(container) is { } closed)
        {
            await FinishAsync(closed, reason);
        }
    }

    /// <summary>
    /// Stops every container of an app, those starting now included (each as soon as its start is over), and refuses
    /// later starts of it: running inputs are cut off, [Exit] hooks run.
    /// </summary>
    public async Task StopAppAsync(Guid appId)
    {
        var now = _clock.GetUtcNow();
        _stoppedApps[appId] = now;
        foreach (var (stale, _) in _stoppedApps.Where(pair => now - pair.Value > StoppedAppMemory))
        {
            _stoppedApps.TryRemove(stale, out _);
        }
        _credentials.Forget(appId);
        // At once, not draining: the app's queued inputs fail and its running ones are cut off, as Modal's app stop does.
        // One still starting is only marked here (it has no process to stop yet): StartAsync stops it when the start ends.
        var started = _slots.Find(c => c.AppId == appId).Where(c => _slots.Close(c.Id, StopReasons.AppStopped) is not null);
        await Task.WhenAll(started.Select(c => FinishAsync(c, StopReasons.AppStopped)));
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
        // No new connection to its app from here on; requests still in flight fail (502 at the forwarder).
        pooled.Web?.Dispose();
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

    /// <summary>
    /// A container that dies between inputs is forgotten at once, so the next input is not given to it. A server
    /// container that dies is forgotten at once even with requests in flight (they fail with 502): no input's failure
    /// path is there to remove it.
    /// </summary>
    private async Task WatchForCrashAsync(PooledContainer pooled, ContainerProcess process)
    {
        await process.Exited;
        if (pooled.IsWebServer || _slots.IsIdleMember(pooled))
        {
            await FinishAsync(pooled, _starter.WasOutOfMemory(pooled.Id) ? StopReasons.OutOfMemory : StopReasons.Crashed);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} started for {App}.{Function} (bundle {BundleId})")]
    private static partial void LogContainerStarted(ILogger logger, string containerId, string app, string function, string bundleId);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Server container {ContainerId} is ready but not announced: this runner does not know its web forwarder's address (set GpuRunner:WebForwarderUrl)")]
    private static partial void LogNoForwarderUrl(ILogger logger, string containerId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId} of {App}.{Function} could not start: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string containerId, string app, string function, string reason);
}
