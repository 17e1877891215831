using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Container;
using Modal.Contracts.Containers;
using Modal.GpuRunner.Bundles;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Volumes;
using Modal.Volumes;
using Modal.GpuRunner.Secrets;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// The containers of this node: one per function (or per class, whose methods share it), started when its first input
/// arrives, replaced when it dies or when the app is redeployed with another bundle, and stopped with its app.
/// (Scaling to several, and to zero, is the autoscaler's.)
/// </summary>
public sealed partial class ContainerPool(
    BundleCache bundles, ContainerVolumes volumes, GpuInventory gpus, ContainerCredentials credentials, ContainerSecrets secrets, IBus bus,
    ContainerIsolation isolation, IOptions<GpuRunnerOptions> options, TimeProvider clock, ILogger<ContainerPool> logger)
    : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<RunningContainer>>> _containers = new();

    /// <summary>Each live container's cgroup (or watchdog), by container id.</summary>
    private readonly ConcurrentDictionary<string, IContainerResources> _resources = new(StringComparer.Ordinal);

    /// <summary>A live container of <paramref name="entry"/>'s function running <paramref name="bundleId"/>.</summary>
    public async Task<ContainerProcess> GetAsync(CatalogEntry entry, string bundleId, CancellationToken cancellationToken)
    {
        var group = entry.ContainerGroup;
        while (true)
        {
            var starting = _containers.GetOrAdd(group, _ => new Lazy<Task<RunningContainer>>(() => StartAsync(entry, bundleId)));
            RunningContainer running;
            try
            {
                running = await starting.Value.WaitAsync(cancellationToken);
            }
            catch (Exception e) when (e is ContainerCrashedException or ContainerOutOfMemoryException or ContainerSecretsException or HttpRequestException)
            {
                // A failed start is not kept: the next input tries again (the secret may exist by then).
                _containers.TryRemove(new KeyValuePair<string, Lazy<Task<RunningContainer>>>(group, starting));
                throw;
            }
            if (running.BundleId == bundleId && !running.Process.Exited.IsCompleted)
            {
                return running.Process;
            }
            // Dead, or running an older deployment: replace it.
            if (_containers.TryRemove(new KeyValuePair<string, Lazy<Task<RunningContainer>>>(group, starting)))
            {
                await running.Process.DisposeAsync();
                await PublishStoppedAsync(running.Process, running.FunctionId, running.Process.Exited.IsCompleted ? StopReasons.Crashed : StopReasons.Replaced);
            }
        }
    }

    /// <summary>Drops (and kills) the function's container, e.g. after a timeout killed its input.</summary>
    public async Task RemoveAsync(CatalogEntry entry, ContainerProcess container, string reason)
    {
        container.Kill();
        if (_containers.TryGetValue(entry.ContainerGroup, out var current) && current.IsValueCreated && current.Value.IsCompletedSuccessfully
            && current.Value.Result.Process == container)
        {
            _containers.TryRemove(new KeyValuePair<string, Lazy<Task<RunningContainer>>>(entry.ContainerGroup, current));
        }
        await container.DisposeAsync();
        await PublishStoppedAsync(container, entry.Function.FunctionId, reason);
    }

    /// <summary>Stops every container of an app gracefully: running inputs finish or are cut off, [Exit] hooks run.</summary>
    public async Task StopAppAsync(Guid appId)
    {
        credentials.Forget(appId);
        foreach (var (group, starting) in _containers)
        {
            if (!starting.IsValueCreated || !starting.Value.IsCompletedSuccessfully || starting.Value.Result.AppId != appId
                || !_containers.TryRemove(new KeyValuePair<string, Lazy<Task<RunningContainer>>>(group, starting)))
            {
                continue;
            }
            var running = starting.Value.Result;
            await running.Process.DisposeAsync();
            await PublishStoppedAsync(running.Process, running.FunctionId, StopReasons.AppStopped);
        }
    }

    private async Task<RunningContainer> StartAsync(CatalogEntry entry, string bundleId)
    {
        var bundle = await bundles.GetAsync(bundleId, CancellationToken.None);
        var settings = options.Value;
        var label = entry.Function.ClassName ?? entry.Function.Name;
        var containerId = $"{label}-{Guid.NewGuid():N}"[..Math.Min(label.Length + 13, 48)];
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
        var allocated = AllocateGpus(entry, containerId);
        environment["CUDA_VISIBLE_DEVICES"] = string.Join(',', allocated.Select(gpu => gpu.Index));
        environment["NVIDIA_VISIBLE_DEVICES"] = allocated.Count == 0 ? "void" : string.Join(',', allocated.Select(gpu => gpu.Uuid));
        var launcher = isolation.Launcher;
        MountedVolumes? mounted;
        try
        {
            mounted = await volumes.MountAsync(entry, containerId, launcher.Isolates, CancellationToken.None);
        }
        catch
        {
            gpus.Release(containerId);
            throw;
        }
        if (mounted is not null)
        {
            environment[VolumeMounts.Variable] = mounted.Announcement;
        }
        var function = entry.Function;
        if (isolation.Unisolated is { } unisolated)
        {
            LogNotIsolated(logger, containerId, entry.AppName, function.Name,
                function.BlockNetwork ? $"{unisolated}; its BlockNetwork is NOT honoured (it shares the node's network)" : unisolated);
        }
        var resources = isolation.Limits.Create(containerId,
            new ContainerLimits((long)function.MemoryMiB * 1024 * 1024, function.Cpu, settings.ContainerPidsLimit));
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
        ContainerProcess process;
        try
        {
            process = await ContainerProcess.StartAsync(spec, launcher, settings.RuntimeDirectory, startupTimeout,
                (line, isError) => LogContainerOutput(logger, containerId, isError ? "stderr" : "stdout", line), CancellationToken.None);
            resources.Watch(process.ProcessId);
        }
        catch (ContainerCrashedException crash)
        {
            // An [Enter] hook (a model load) may be what ran out of memory.
            var outOfMemory = resources.WasOutOfMemory();
            gpus.Release(containerId);
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
            gpus.Release(containerId);
            ReleaseResources(containerId);
            await volumes.ReleaseAsync(containerId, commit: false);
            throw;
        }
        LogContainerStarted(logger, containerId, entry.AppName, entry.Function.Name, bundleId);
        await bus.Publish(new ContainerStarted
        {
            ContainerId = containerId, RunnerId = settings.RunnerId, FunctionId = entry.Function.FunctionId, AppName = entry.AppName,
            FunctionName = entry.Function.Name, BundleId = bundleId, StartedAt = clock.GetUtcNow(),
        });
        return new RunningContainer(process, bundleId, entry.Function.FunctionId, entry.AppId);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var starting in _containers.Values.Where(c => c.IsValueCreated))
        {
            try
            {
                var running = await starting.Value;
                await running.Process.DisposeAsync();
                await PublishStoppedAsync(running.Process, running.FunctionId, StopReasons.RunnerStopping);
            }
            catch (ContainerCrashedException)
            {
                // Never started: nothing to stop.
            }
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

    private IReadOnlyList<Contracts.Runners.RunnerGpu> AllocateGpus(CatalogEntry entry, string containerId)
    {
        if (entry.Function.Gpu is not { } gpu)
        {
            return [];
        }
        return gpus.Allocate([gpu, .. entry.Function.GpuFallbacks], containerId)
            ?? throw new NoGpuAvailableException(
                $"{entry.AppName}.{entry.Function.Name} needs GPU '{string.Join("' or '", [gpu, .. entry.Function.GpuFallbacks])}'; " +
                $"runner {options.Value.RunnerId} has free: {gpus.DescribeFree()}.");
    }

    private async Task PublishStoppedAsync(ContainerProcess container, Guid functionId, string reason)
    {
        gpus.Release(container.Id);
        ReleaseResources(container.Id);
        // As on Modal, a container's Volume changes are committed when it stops (not when it crashed).
        await volumes.ReleaseAsync(container.Id, commit: reason is not (StopReasons.Crashed or StopReasons.OutOfMemory));
        await bus.Publish(new ContainerStopped
        {
            ContainerId = container.Id, RunnerId = options.Value.RunnerId, FunctionId = functionId, Reason = reason, StoppedAt = clock.GetUtcNow(),
        });
    }

    private sealed record RunningContainer(ContainerProcess Process, string BundleId, Guid FunctionId, Guid AppId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} started for {App}.{Function} (bundle {BundleId})")]
    private static partial void LogContainerStarted(ILogger logger, string containerId, string app, string function, string bundleId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId} of {App}.{Function} is NOT isolated: {Reason}")]
    private static partial void LogNotIsolated(ILogger logger, string containerId, string app, string function, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "[{ContainerId} {Stream}] {Line}")]
    private static partial void LogContainerOutput(ILogger logger, string containerId, string stream, string line);
}

/// <summary>Why a container stopped, as <see cref="ContainerStopped.Reason"/> names it.</summary>
public static class StopReasons
{
    public const string TimedOut = "TimedOut";
    public const string Crashed = "Crashed";
    public const string Replaced = "Replaced";
    public const string RunnerStopping = "RunnerStopping";
    public const string AppStopped = "AppStopped";
    public const string Cancelled = "Cancelled";
    public const string OutOfMemory = "OutOfMemory";
}
