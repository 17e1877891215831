using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Container.Protocol;
using Modal.Contracts.Containers;
using Modal.Contracts.Runners;
using Modal.GpuRunner.Bundles;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Volumes;
using Modal.GpuRunner.Secrets;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// The containers of this node, started and stopped when the Scheduler says so (<see cref="StartContainer"/>,
/// <see cref="StopContainer"/>), each holding the GPUs the Scheduler chose. A function (or class) may have several
/// here; an input takes a free slot of one of them (<see cref="AcquireAsync"/>). A container stops gracefully: it
/// takes no new input, finishes the ones it runs, then its [Exit] hooks run. Whenever the slots of a container group
/// change, <see cref="CapacityChanged"/> tells the queue subscriptions, so a runner consumes a function's queue only
/// as far as it has containers for it.
/// </summary>
public sealed partial class ContainerPool(
    BundleCache bundles, ContainerVolumes volumes, GpuInventory gpus, ContainerCredentials credentials, ContainerSecrets secrets, IBus bus,
    ContainerIsolation isolation, IOptions<GpuRunnerOptions> options, TimeProvider clock, ILogger<ContainerPool> logger)
    : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, PooledContainer> _containers = new(StringComparer.Ordinal);

    /// <summary>Each live container's cgroup (or watchdog), by container id.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IContainerResources> _resources = new(StringComparer.Ordinal);

    // Inputs waiting for a slot, per container group, oldest first. A freed slot is handed to the oldest waiter alone:
    // waking every waiter on each release made a busy map spend half the runner's CPU on the pool's lock.
    private readonly Dictionary<string, Queue<SlotWaiter>> _waiting = new(StringComparer.Ordinal);

    /// <summary>Raised with a container group whose input slots changed (a container became ready, or stopped taking inputs).</summary>
    public event Action<string>? CapacityChanged;

    /// <summary>Input slots the ready containers of <paramref name="containerGroup"/> offer together (0: consume nothing).</summary>
    public int SlotsOf(string containerGroup)
    {
        lock (_gate)
        {
            return _containers.Values.Where(c => c.Group == containerGroup && c.Accepting).Sum(c => c.Slots);
        }
    }

    /// <summary>
    /// A slot of a ready container of <paramref name="entry"/>'s group, waiting while all are busy; null when the group
    /// has no container taking inputs here (the input goes back to the queue for another runner's container).
    /// </summary>
    public Task<ContainerLease?> AcquireAsync(CatalogEntry entry, CancellationToken cancellationToken)
    {
        SlotWaiter waiter;
        lock (_gate)
        {
            if (!HasAcceptingContainer(entry.ContainerGroup))
            {
                return Task.FromResult<ContainerLease?>(null);
            }
            if (TakeSlot(entry.ContainerGroup) is { } lease)
            {
                return Task.FromResult<ContainerLease?>(lease);
            }
            waiter = new SlotWaiter();
            if (!_waiting.TryGetValue(entry.ContainerGroup, out var queue))
            {
                _waiting[entry.ContainerGroup] = queue = new Queue<SlotWaiter>();
            }
            queue.Enqueue(waiter);
        }
        return WaitForSlotAsync(waiter, cancellationToken);
    }

    private async Task<ContainerLease?> WaitForSlotAsync(SlotWaiter waiter, CancellationToken cancellationToken)
    {
        // Cancelled under the gate, so a waiter is either handed a slot or cancelled, never both (no slot leaks).
        await using var registration = cancellationToken.UnsafeRegister(static (state, token) =>
        {
            var (pool, cancelled) = ((ContainerPool, SlotWaiter))state!;
            lock (pool._gate)
            {
                cancelled.TrySetCanceled(token);
            }
        }, (this, waiter));
        return await waiter.Task;
    }

    /// <summary>Hands free slots of <paramref name="group"/> to its oldest waiters; with no container left to wait for, they get null. Under the gate.</summary>
    private void HandOutSlots(string group)
    {
        if (!_waiting.TryGetValue(group, out var queue))
        {
            return;
        }
        while (queue.TryPeek(out var waiter))
        {
            if (waiter.Task.IsCompleted)
            {
                queue.Dequeue(); // Cancelled while waiting.
                continue;
            }
            if (!HasAcceptingContainer(group))
            {
                queue.Dequeue();
                waiter.TrySetResult(null); // Its inputs go back to the queue for another runner's container.
                continue;
            }
            if (TakeSlot(group) is not { } lease)
            {
                return;
            }
            queue.Dequeue();
            waiter.TrySetResult(lease);
        }
    }

    private void HandOutSlotsOfEveryGroup()
    {
        lock (_gate)
        {
            foreach (var group in _waiting.Keys)
            {
                HandOutSlots(group);
            }
        }
    }

    private bool HasAcceptingContainer(string group)
    {
        foreach (var container in _containers.Values)
        {
            if (container.Group == group && container.Accepting)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A slot of the least loaded accepting container of <paramref name="group"/> (so concurrent inputs spread over them), or null when all are busy. Under the gate.</summary>
    private ContainerLease? TakeSlot(string group)
    {
        PooledContainer? free = null;
        foreach (var container in _containers.Values)
        {
            if (container.Group == group && container.Accepting && container.InFlight < container.Slots && (free is null || container.InFlight < free.InFlight))
            {
                free = container;
            }
        }
        if (free is null)
        {
            return null;
        }
        free.InFlight++;
        free.LastBusyAt = clock.GetUtcNow();
        if (free.SingleUse || free.Failure is not null)
        {
            // One input only: a single-use container exits after it; a failed start fails just this input.
            free.Accepting = false;
            RaiseCapacityChanged(free.Group);
        }
        return new ContainerLease(this, free);
    }

    /// <summary>Starts the container the Scheduler placed here; throws <see cref="GpusTakenException"/> when a chosen GPU is held.</summary>
    public async Task StartAsync(StartContainer command, CatalogEntry entry)
    {
        var allocated = gpus.AllocateExact(command.GpuIndices, command.ContainerId)
            ?? throw new GpusTakenException(
                $"GPUs [{string.Join(',', command.GpuIndices)}] of runner {options.Value.RunnerId} are not all free (free: {gpus.DescribeFree()}).");
        var bundleId = entry.BundleId;
        var pooled = new PooledContainer(command.ContainerId, entry.ContainerGroup, entry.Function.FunctionId, entry.AppId, bundleId,
            entry.Function.SingleUseContainers ? 1 : Math.Max(1, entry.Function.MaxConcurrentInputs), entry.Function.SingleUseContainers,
            command.GpuIndices, clock.GetUtcNow());
        lock (_gate)
        {
            if (!_containers.TryAdd(pooled.Id, pooled))
            {
                gpus.Release(command.ContainerId);
                return; // The same command delivered twice: the container is there already.
            }
        }
        try
        {
            pooled.Process = await StartProcessAsync(entry, bundleId, pooled.Id, allocated);
        }
        catch (Exception e) when (e is ContainerCrashedException or ContainerOutOfMemoryException or ContainerSecretsException or HttpRequestException or IOException)
        {
            // Kept for one input, which fails saying why (a missing secret, a crash in [Enter]); then it is gone and the
            // Scheduler may try again (the secret may exist by then).
            gpus.Release(pooled.Id);
            pooled.Failure = e;
            LogStartFailed(logger, pooled.Id, entry.AppName, entry.Function.Name, e.Message);
        }
        lock (_gate)
        {
            pooled.Accepting = !pooled.StopRequested;
            pooled.LastBusyAt = clock.GetUtcNow();
        }
        if (pooled.Process is { } started)
        {
            _ = WatchForCrashAsync(pooled, started);
            LogContainerStarted(logger, pooled.Id, entry.AppName, entry.Function.Name, bundleId);
            await bus.Publish(new ContainerStarted
            {
                ContainerId = pooled.Id, RunnerId = options.Value.RunnerId, FunctionId = entry.Function.FunctionId, AppName = entry.AppName,
                FunctionName = entry.Function.Name, BundleId = bundleId, StartedAt = clock.GetUtcNow(),
            });
        }
        HandOutSlotsOfEveryGroup();
        RaiseCapacityChanged(pooled.Group);
        if (pooled.StopRequested)
        {
            await StopAsync(pooled.Id, StopReasons.ScaledDown);
        }
    }

    /// <summary>
    /// Stops a container gracefully: it takes no new input, the ones it runs finish, then it stops ([Exit] hooks run,
    /// Volume changes are committed). Returns at once; the stop completes in the background.
    /// </summary>
    public Task StopAsync(string containerId, string reason)
    {
        PooledContainer? pooled;
        lock (_gate)
        {
            if (!_containers.TryGetValue(containerId, out pooled))
            {
                return Task.CompletedTask;
            }
            pooled.StopRequested = true;
            if (pooled.Process is null && pooled.Failure is null)
            {
                return Task.CompletedTask; // Still starting: it stops as soon as it has started.
            }
            pooled.Accepting = false;
        }
        RaiseCapacityChanged(pooled.Group);
        HandOutSlotsOfEveryGroup();
        return DrainAndStopAsync(pooled, reason);
    }

    /// <summary>Kills a container at once (its input timed out or was cancelled with its container, or it crashed).</summary>
    public async Task RemoveAsync(ContainerProcess container, string reason)
    {
        container.Kill();
        PooledContainer? pooled;
        lock (_gate)
        {
            pooled = _containers.Values.FirstOrDefault(c => c.Process == container);
            if (pooled is not null)
            {
                pooled.Accepting = false;
            }
        }
        if (pooled is not null)
        {
            RaiseCapacityChanged(pooled.Group);
            await FinishAsync(pooled, reason);
        }
    }

    /// <summary>Stops every container of an app gracefully: running inputs finish or are cut off, [Exit] hooks run.</summary>
    public async Task StopAppAsync(Guid appId)
    {
        credentials.Forget(appId);
        List<PooledContainer> stopping;
        lock (_gate)
        {
            stopping = _containers.Values.Where(c => c.AppId == appId).ToList();
        }
        // At once, not draining: the app's queued inputs fail and its running ones are cut off, as Modal's app stop does.
        await Task.WhenAll(stopping.Select(c => FinishAsync(c, StopReasons.AppStopped)));
    }

    /// <summary>An app was redeployed: its containers running another bundle stop once their inputs finish.</summary>
    public Task StopOutdatedAsync(Guid appId, string bundleId)
    {
        List<string> outdated;
        lock (_gate)
        {
            outdated = _containers.Values.Where(c => c.AppId == appId && c.BundleId != bundleId).Select(c => c.Id).ToList();
        }
        return Task.WhenAll(outdated.Select(id => StopAsync(id, StopReasons.Replaced)));
    }

    /// <summary>What this runner's heartbeat says about its containers.</summary>
    public IReadOnlyList<RunnerContainer> Describe()
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            return _containers.Values.GroupBy(c => c.Group).SelectMany(group =>
            {
                // The group's waiting inputs, shared out over its containers (the Scheduler adds them up per function).
                var waiting = _waiting.TryGetValue(group.Key, out var queue) ? queue.Count(waiter => !waiter.Task.IsCompleted) : 0;
                var containers = group.ToList();
                return containers.Select((c, i) => new RunnerContainer
                {
                    ContainerId = c.Id,
                    FunctionId = c.FunctionId,
                    RunningInputs = c.InFlight,
                    WaitingInputs = waiting / containers.Count + (i < waiting % containers.Count ? 1 : 0),
                    LastBusyAt = c.InFlight > 0 ? now : c.LastBusyAt,
                    GpuIndices = c.GpuIndices,
                    State = c.Accepting ? "Running" : c.Process is null && c.Failure is null ? "Starting" : "Stopping",
                });
            }).ToList();
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<PooledContainer> all;
        lock (_gate)
        {
            all = [.. _containers.Values];
        }
        await Task.WhenAll(all.Select(c => FinishAsync(c, StopReasons.RunnerStopping)));
    }

    private void Release(PooledContainer pooled)
    {
        bool stop;
        bool drained;
        lock (_gate)
        {
            pooled.InFlight--;
            pooled.LastBusyAt = clock.GetUtcNow();
            drained = pooled.InFlight == 0;
            stop = drained && (pooled.SingleUse || pooled.Failure is not null) && !pooled.StopRequested;
            if (stop)
            {
                pooled.StopRequested = true;
            }
            HandOutSlots(pooled.Group);
        }
        if (drained)
        {
            pooled.Drained.TrySetResult();
        }
        if (stop)
        {
            _ = DrainAndStopAsync(pooled, pooled.Failure is not null ? StopReasons.StartFailed : StopReasons.SingleUse);
        }
    }

    private async Task DrainAndStopAsync(PooledContainer pooled, string reason)
    {
        bool busy;
        lock (_gate)
        {
            busy = pooled.InFlight > 0;
        }
        if (busy)
        {
            await pooled.Drained.Task;
        }
        await FinishAsync(pooled, reason);
    }

    /// <summary>Forgets the container and stops its process (once, whoever calls first), then tells the bus.</summary>
    private async Task FinishAsync(PooledContainer pooled, string reason)
    {
        lock (_gate)
        {
            pooled.Accepting = false;
            if (!_containers.Remove(pooled.Id))
            {
                return;
            }
        }
        RaiseCapacityChanged(pooled.Group);
        HandOutSlotsOfEveryGroup();
        if (pooled.Process is { } process)
        {
            await process.DisposeAsync();
        }
        gpus.Release(pooled.Id);
        ReleaseResources(pooled.Id);
        // As on Modal, a container's Volume changes are committed when it stops (not when it crashed or never started).
        await volumes.ReleaseAsync(pooled.Id, commit: pooled.Process is not null && reason is not (StopReasons.Crashed or StopReasons.OutOfMemory));
        await bus.Publish(new ContainerStopped
        {
            ContainerId = pooled.Id, RunnerId = options.Value.RunnerId, FunctionId = pooled.FunctionId, Reason = reason, StoppedAt = clock.GetUtcNow(),
        });
    }

    /// <summary>A container that dies between inputs is forgotten at once, so the next input is not given to it.</summary>
    private async Task WatchForCrashAsync(PooledContainer pooled, ContainerProcess process)
    {
        await process.Exited;
        bool known;
        lock (_gate)
        {
            known = _containers.ContainsKey(pooled.Id) && pooled.InFlight == 0;
        }
        if (known)
        {
            var outOfMemory = _resources.TryGetValue(pooled.Id, out var resources) && resources.WasOutOfMemory();
            await FinishAsync(pooled, outOfMemory ? StopReasons.OutOfMemory : StopReasons.Crashed);
        }
    }

    private void RaiseCapacityChanged(string group) => CapacityChanged?.Invoke(group);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task<ContainerProcess> StartProcessAsync(CatalogEntry entry, string bundleId, string containerId, IReadOnlyList<RunnerGpu> allocated)
    {
        var bundle = await bundles.GetAsync(bundleId, CancellationToken.None);
        var settings = options.Value;
        // Site settings first, the function's own env over them, its secrets over that, then what the platform sets.
        var environment = new Dictionary<string, string>(settings.ContainerEnvironment);
        foreach (var (name, value) in entry.Function.Env)
        {
            environment[name] = value;
        }
        foreach (var (name, value) in await secrets.ResolveAsync(entry.WorkspaceId, entry.Function.Secrets, CancellationToken.None))
        {
            environment[name] = value;
        }
        foreach (var (name, value) in await credentials.EnvironmentForAsync(entry, CancellationToken.None))
        {
            environment[name] = value;
        }
        if (entry.Function.ClassName is { } className)
        {
            environment[ContainerProtocol.ClassVariable] = className;
        }
        // A container sees only the GPUs it holds (none when it asked for none), as on Modal.
        environment["CUDA_VISIBLE_DEVICES"] = string.Join(',', allocated.Select(gpu => gpu.Index));
        environment["NVIDIA_VISIBLE_DEVICES"] = allocated.Count == 0 ? "void" : string.Join(',', allocated.Select(gpu => gpu.Uuid));
        var launcher = isolation.Launcher;
        var mounted = await volumes.MountAsync(entry, containerId, launcher.Isolates, CancellationToken.None);
        if (mounted is not null)
        {
            environment[VolumeMountAnnouncement.Variable] = mounted.Announcement;
        }
        var function = entry.Function;
        if (isolation.Unisolated is { } unisolated)
        {
            LogNotIsolated(logger, containerId, entry.AppName, function.Name,
                function.BlockNetwork ? $"{unisolated}; its BlockNetwork is NOT honoured (it shares the node's network)" : unisolated);
        }
        var resources = isolation.Limits.Create(containerId,
            new ContainerLimits(function.MemoryMiB * 1024 * 1024, function.Cpu, settings.ContainerPidsLimit));
        _resources[containerId] = resources;
        var spec = new ContainerSpec(containerId, bundle.Directory, bundle.Manifest.EntryAssembly, environment)
        {
            Binds = mounted?.Binds ?? [],
            BlockNetwork = function.BlockNetwork,
            GpuIndices = allocated.Select(gpu => gpu.Index).ToList(),
            CgroupProcsFiles = resources.ProcsFiles,
        };
        // A class's [Enter] hooks run before its container listens (loading a model can take a while), so, as in Modal,
        // start-up may take as long as the function's own timeout.
        var startupTimeout = entry.Function.ClassName is null
            ? settings.ContainerStartupTimeout
            : TimeSpan.FromTicks(Math.Max(settings.ContainerStartupTimeout.Ticks, entry.Function.Timeout.Ticks));
        try
        {
            var process = await ContainerProcess.StartAsync(spec, launcher, settings.RuntimeDirectory, startupTimeout,
                (line, isError) => LogContainerOutput(logger, containerId, isError ? "stderr" : "stdout", line), CancellationToken.None);
            resources.Watch(process.ProcessId);
            return process;
        }
        catch (ContainerCrashedException crash)
        {
            // An [Enter] hook (a model load) may be what ran out of memory.
            var outOfMemory = resources.WasOutOfMemory();
            ReleaseResources(containerId);
            await volumes.ReleaseAsync(containerId, commit: false);
            if (outOfMemory)
            {
                throw new ContainerOutOfMemoryException(OutOfMemoryMessage(entry, $"while starting ({crash.Message.Split('\n')[0]})"));
            }
            throw;
        }
        catch
        {
            ReleaseResources(containerId);
            await volumes.ReleaseAsync(containerId, commit: false);
            throw;
        }
    }

    /// <summary>
    /// Why <paramref name="container"/> died, when it was for passing its memory limit: a message naming the function and
    /// the limit (for <see cref="ContainerOutOfMemoryException"/>); null when it died of something else. Ask before
    /// removing the container: its cgroup goes with it.
    /// </summary>
    public string? DescribeOutOfMemory(CatalogEntry entry, ContainerProcess container)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(container);
        return _resources.TryGetValue(container.Id, out var resources) && resources.WasOutOfMemory()
            ? OutOfMemoryMessage(entry, "while running an input")
            : null;
    }

    private string OutOfMemoryMessage(CatalogEntry entry, string when) =>
        $"{entry.AppName}.{entry.Function.Name} ran out of memory {when}: its container passed its limit of {entry.Function.MemoryMiB} MiB " +
        $"and was killed ({isolation.Limits.Enforcement}). Raise FunctionOptions.MemoryMiB or use less memory.";

    private void ReleaseResources(string containerId)
    {
        if (_resources.TryRemove(containerId, out var resources))
        {
            resources.Dispose();
        }
    }

    /// <summary>One container and its input slots. Mutable fields are guarded by the pool's gate.</summary>
    private sealed class PooledContainer(
        string id, string group, Guid functionId, Guid appId, string bundleId, int slots, bool singleUse, IReadOnlyList<int> gpuIndices,
        DateTimeOffset createdAt)
    {
        public string Id { get; } = id;
        public string Group { get; } = group;
        public Guid FunctionId { get; } = functionId;
        public Guid AppId { get; } = appId;
        public string BundleId { get; } = bundleId;
        public int Slots { get; } = slots;
        public bool SingleUse { get; } = singleUse;
        public IReadOnlyList<int> GpuIndices { get; } = gpuIndices;
        public ContainerProcess? Process { get; set; }
        public Exception? Failure { get; set; }
        public bool Accepting { get; set; }
        public bool StopRequested { get; set; }
        public int InFlight { get; set; }
        public DateTimeOffset LastBusyAt { get; set; } = createdAt;
        public TaskCompletionSource Drained { get; } = NewSignal();
    }

    /// <summary>An input waiting for a slot: completed with its lease, with null (no container of its group left here), or cancelled.</summary>
    private sealed class SlotWaiter() : TaskCompletionSource<ContainerLease?>(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>An input's hold on one slot of a container; disposing it frees the slot.</summary>
    public sealed class ContainerLease : IDisposable
    {
        private readonly ContainerPool _pool;
        private readonly PooledContainer _container;
        private int _released;

        internal ContainerLease(ContainerPool pool, object container)
        {
            _pool = pool;
            _container = (PooledContainer)container;
        }

        public string ContainerId => _container.Id;

        /// <summary>The container's process; throws <see cref="ContainerStartException"/> when its start failed.</summary>
        public ContainerProcess Process => _container.Process ?? throw new ContainerStartException(_container.Failure!);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                _pool.Release(_container);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} started for {App}.{Function} (bundle {BundleId})")]
    private static partial void LogContainerStarted(ILogger logger, string containerId, string app, string function, string bundleId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId} of {App}.{Function} could not start: {Reason}")]
    private static partial void LogStartFailed(ILogger logger, string containerId, string app, string function, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId} of {App}.{Function} is NOT isolated: {Reason}")]
    private static partial void LogNotIsolated(ILogger logger, string containerId, string app, string function, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "[{ContainerId} {Stream}] {Line}")]
    private static partial void LogContainerOutput(ILogger logger, string containerId, string stream, string line);
}

/// <summary>A GPU the Scheduler chose for a container is held by another one here (or does not exist).</summary>
public sealed class GpusTakenException(string message) : Exception(message);

/// <summary>The container an input was given could not start; <see cref="Exception.InnerException"/> says why.</summary>
public sealed class ContainerStartException(Exception cause) : Exception(cause.Message, cause);

/// <summary>Why a container stopped, as <see cref="ContainerStopped.Reason"/> names it.</summary>
public static class StopReasons
{
    public const string TimedOut = "TimedOut";
    public const string Crashed = "Crashed";
    public const string Replaced = "Replaced";
    public const string RunnerStopping = "RunnerStopping";
    public const string AppStopped = "AppStopped";
    public const string Cancelled = "Cancelled";
    public const string ScaledDown = "ScaledDown";
    public const string SingleUse = "SingleUse";
    public const string OutOfMemory = "OutOfMemory";
    public const string StartFailed = "StartFailed";
}
