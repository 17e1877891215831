using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Container;
using Modal.Contracts.Containers;
using Modal.GpuRunner.Bundles;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Secrets;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// The containers of this node: one per function (or per class, whose methods share it), started when its first input
/// arrives, replaced when it dies or when the app is redeployed with another bundle, and stopped with its app.
/// (Scaling to several, and to zero, is the autoscaler's.)
/// </summary>
public sealed partial class ContainerPool(
    BundleCache bundles, ContainerSecrets secrets, IBus bus, IOptions<GpuRunnerOptions> options, TimeProvider clock, ILogger<ContainerPool> logger)
    : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<RunningContainer>>> _containers = new();

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
            catch (Exception e) when (e is ContainerCrashedException or ContainerSecretsException or HttpRequestException)
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
        var environment = new Dictionary<string, string>(entry.Function.Env);
        foreach (var (key, value) in await secrets.ResolveAsync(entry.WorkspaceId, entry.Function.Secrets, CancellationToken.None))
        {
            environment[key] = value;
        }
        if (entry.Function.ClassName is { } className)
        {
            environment[ContainerProtocol.ClassVariable] = className;
        }
        var spec = new ContainerSpec(containerId, bundle.Directory, bundle.Manifest.EntryAssembly, environment);
        // A class's [Enter] hooks run before its container listens (loading a model can take a while), so, as in Modal,
        // start-up may take as long as the function's own timeout.
        var startupTimeout = entry.Function.ClassName is null
            ? settings.ContainerStartupTimeout
            : TimeSpan.FromTicks(Math.Max(settings.ContainerStartupTimeout.Ticks, entry.Function.Timeout.Ticks));
        var process = await ContainerProcess.StartAsync(spec, settings.RuntimeDirectory, startupTimeout,
            (line, isError) => LogContainerOutput(logger, containerId, isError ? "stderr" : "stdout", line), CancellationToken.None);
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

    private Task PublishStoppedAsync(ContainerProcess container, Guid functionId, string reason) =>
        bus.Publish(new ContainerStopped
        {
            ContainerId = container.Id, RunnerId = options.Value.RunnerId, FunctionId = functionId, Reason = reason, StoppedAt = clock.GetUtcNow(),
        });

    private sealed record RunningContainer(ContainerProcess Process, string BundleId, Guid FunctionId, Guid AppId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Container {ContainerId} started for {App}.{Function} (bundle {BundleId})")]
    private static partial void LogContainerStarted(ILogger logger, string containerId, string app, string function, string bundleId);

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
}
