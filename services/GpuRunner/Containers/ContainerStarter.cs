using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts.Web;
using Modal.Container.Protocol;
using Modal.Contracts.Containers;
using Modal.Contracts.Runners;
using Modal.GpuRunner.Bundles;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Platform;
using Modal.GpuRunner.Volumes;
using Modal.GpuRunner.Web;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// Starts a container's process and gives back what it held on this node: its GPUs, its bundle and Volumes, its cgroup
/// (or watchdog), under the isolation this node offers. Knows, while the container lives, whether it ran out of memory.
/// </summary>
public sealed partial class ContainerStarter(
    BundleCache bundles, ContainerVolumes volumes, GpuInventory gpus, ContainerEnvironment environments, ContainerIsolation isolation,
    ContainerCredentials credentials, PlatformSocket platform, GpuNodeLibraries gpuSoftware, Images.ImageRoots images, IOptions<GpuRunnerOptions> options,
    ILogger<ContainerStarter> logger)
{
    /// <summary>Each live container's cgroup (or watchdog), by container id.</summary>
    private readonly ConcurrentDictionary<string, IContainerResources> _resources = new(StringComparer.Ordinal);

    /// <summary>Each live container's network namespace (none for a blocked network or where this node cannot make one).</summary>
    private readonly ConcurrentDictionary<string, ContainerNetwork> _networks = new(StringComparer.Ordinal);

    /// <summary>Takes the GPUs the Scheduler chose for <paramref name="command"/>'s container; throws <see cref="GpusTakenException"/> when one is held.</summary>
    public IReadOnlyList<RunnerGpu> AllocateGpus(StartContainer command) =>
        gpus.AllocateExact(command.GpuIndices, command.ContainerId)
        ?? throw new GpusTakenException(
            $"GPUs [{string.Join(',', command.GpuIndices)}] of runner {options.Value.RunnerId} are not all free (free: {gpus.DescribeFree()}).");

    /// <summary>Frees a container's GPUs (its start failed: they need not wait for the container to go).</summary>
    public void ReleaseGpus(string containerId) => gpus.Release(containerId);

    /// <summary>
    /// Starts a container of <paramref name="entry"/> holding <paramref name="allocated"/> and waits until it listens (a
    /// server container: until its app or server accepts connections too); on failure, what the start took is given
    /// back (but the GPUs).
    /// </summary>
    public async Task<StartedContainer> StartAsync(CatalogEntry entry, string containerId, IReadOnlyList<RunnerGpu> allocated)
    {
        // The container's own token is asked for (or a spare taken) while the bundle and secrets are fetched.
        var token = credentials.TakeAsync(entry, containerId, CancellationToken.None);
        try
        {
            return await StartWithTokenAsync(entry, containerId, allocated, token);
        }
        catch
        {
            // Whatever the start got so far, the token goes with it (once it is there).
            _ = token.ContinueWith(_ => credentials.RevokeAsync(containerId), CancellationToken.None,
                TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
            throw;
        }
    }

    private async Task<StartedContainer> StartWithTokenAsync(
        CatalogEntry entry, string containerId, IReadOnlyList<RunnerGpu> allocated, Task<Contracts.Apps.ContainerToken?> token)
    {
        var bundle = await bundles.GetAsync(entry.WorkspaceId, entry.BundleId, CancellationToken.None);
        var settings = options.Value;
        var function = entry.Function;
        var environment = await environments.ForAsync(entry, allocated, token, CancellationToken.None);
        var launcher = isolation.Launcher;
        string? imageRoot = null;
        if (function.Image is { } image)
        {
            if (launcher is not BubblewrapLauncher)
            {
                throw new ContainerCrashedException(
                    $"Function '{function.Name}' runs in image {image.ImageId[..12]}, which needs the bubblewrap backend; this runner runs plain processes ({isolation.Unisolated}).");
            }
            imageRoot = await images.GetAsync(entry.WorkspaceId, image.RootBlob, CancellationToken.None);
            // The image's variables are its defaults: the site's, the function's, its secrets' and the platform's win.
            foreach (var variable in image.Env)
            {
                var equals = variable.IndexOf('=', StringComparison.Ordinal);
                environment.TryAdd(variable[..equals], variable[(equals + 1)..]);
            }
        }
        var mounted = await volumes.MountAsync(entry, containerId, launcher.Isolates ? launcher.HandOver : null, CancellationToken.None);
        if (mounted is not null)
        {
            environment[VolumeMountAnnouncement.Variable] = mounted.Announcement;
        }
        if (isolation.Unisolated is { } unisolated)
        {
            LogNotIsolated(logger, containerId, entry.AppName, function.Name,
                function.BlockNetwork ? $"{unisolated}; its BlockNetwork is NOT honoured (it shares the node's network)" : unisolated);
        }
        else if (isolation.Weakened is { } weakened)
        {
            LogWeakened(logger, containerId, entry.AppName, function.Name, weakened);
        }
        var resources = isolation.Limits.Create(containerId,
            new ContainerLimits(function.MemoryMiB * 1024 * 1024, function.Cpu, settings.ContainerPidsLimit));
        _resources[containerId] = resources;
        ContainerNetwork? network = null;
        if (launcher.Isolates && !function.BlockNetwork && isolation.Networks is { Unavailable: null } networks)
        {
            try
            {
                network = await networks.CreateAsync(CancellationToken.None);
                _networks[containerId] = network;
            }
            catch
            {
                ReleaseResources(containerId);
                await volumes.ReleaseAsync(containerId, commit: false);
                throw;
            }
        }
        string? webFolder = null;
        if (function.Web is { IsServer: true } web)
        {
            try
            {
                webFolder = CreateWebFolder(containerId, launcher);
            }
            catch
            {
                ReleaseResources(containerId);
                await volumes.ReleaseAsync(containerId, commit: false);
                throw;
            }
            environment[ContainerProtocol.WebFunctionVariable] = function.Name;
            if (web.Kind == WebEndpointKinds.Server)
            {
                environment[ContainerProtocol.WebPortVariable] = (web.Port ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        IReadOnlyList<ContainerBind> gpuBinds = [];
        if (allocated.Count > 0)
        {
            // The node's driver and CUDA libtorch, as NVIDIA's container toolkit would inject them.
            var plan = gpuSoftware.PlanFor(bundle.Manifest.Files.Select(file => file.Path), launcher.Isolates, BubblewrapLauncher.BundlePath);
            foreach (var (name, value) in plan.Environment)
            {
                environment[name] = name is "LD_LIBRARY_PATH" or "PATH" && environment.TryGetValue(name, out var site) ? $"{value}:{site}" : value;
            }
            gpuBinds = plan.Binds;
        }
        var spec = new ContainerSpec(containerId, bundle.Directory, bundle.Manifest.EntryAssembly, environment)
        {
            WebFolder = webFolder,
            WebSocket = function.Web?.Kind == WebEndpointKinds.AspNetApp,
            Binds = [.. mounted?.Binds ?? [], .. gpuBinds],
            BlockNetwork = function.BlockNetwork,
            NetworkNamespace = network?.Path,
            GpuIndices = allocated.Select(gpu => gpu.Index).ToList(),
            CgroupProcsFiles = resources.ProcsFiles,
            PlatformSocketFolder = platform.Enabled ? platform.Folder : null,
            ImageRoot = imageRoot,
            Workdir = function.Image?.Workdir,
        };
        if (imageRoot is not null && launcher is BubblewrapLauncher sandbox)
        {
            var (folders, files) = sandbox.ImageMountPoints(spec);
            Images.ImageRoots.EnsureMountPoints(imageRoot, folders, files);
        }
        // A class's [Enter] hooks run before its container listens (loading a model can take a while), so, as in Modal,
        // start-up may take as long as the function's own timeout.
        var startupTimeout = function.ClassName is null
            ? settings.ContainerStartupTimeout
            : TimeSpan.FromTicks(Math.Max(settings.ContainerStartupTimeout.Ticks, function.Timeout.Ticks));
        try
        {
            var process = await ContainerProcess.StartAsync(spec, launcher, settings.RuntimeDirectory, startupTimeout,
                (line, isError) => LogContainerOutput(logger, containerId, isError ? "stderr" : "stdout", line), CancellationToken.None);
            resources.Watch(process.ProcessId);
            if (network is not null)
            {
                isolation.Networks!.Refill();
            }
            if (webFolder is null)
            {
                return new StartedContainer(process, null);
            }
            WebContainer? webContainer = null;
            try
            {
                webContainer = WebContainerFor(entry, containerId, webFolder, process, launcher, network);
                await webContainer.WaitUntilReadyAsync(function.Web!.StartupTimeout, process.Exited, CancellationToken.None);
            }
            catch
            {
                webContainer?.Dispose();
                process.Kill();
                await process.DisposeAsync();
                throw;
            }
            return new StartedContainer(process, webContainer);
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

    /// <summary>Gives back what a stopped container held; its Volume changes are committed when <paramref name="commitVolumes"/>.</summary>
    public async Task ReleaseAsync(string containerId, bool commitVolumes)
    {
        gpus.Release(containerId);
        ReleaseResources(containerId);
        // Its token dies with it: nothing the container left behind (a child's copy, a log line) can use it later.
        await credentials.RevokeAsync(containerId);
        await volumes.ReleaseAsync(containerId, commitVolumes);
    }

    /// <summary>Whether the container was killed for passing its memory limit. Ask before releasing it: its cgroup goes with it.</summary>
    public bool WasOutOfMemory(string containerId) => _resources.TryGetValue(containerId, out var resources) && resources.WasOutOfMemory();

    /// <summary>
    /// Why <paramref name="container"/> died, when it was for passing its memory limit: a message naming the function and
    /// the limit (for <see cref="ContainerOutOfMemoryException"/>); null when it died of something else. Ask before
    /// removing the container: its cgroup goes with it.
    /// </summary>
    public string? DescribeOutOfMemory(CatalogEntry entry, ContainerProcess container)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(container);
        return WasOutOfMemory(container.Id) ? OutOfMemoryMessage(entry, "while running an input") : null;
    }

    private string OutOfMemoryMessage(CatalogEntry entry, string when) =>
        $"{entry.AppName}.{entry.Function.Name} ran out of memory {when}: its container passed its limit of {entry.Function.MemoryMiB} MiB " +
        $"and was killed ({isolation.Limits.Enforcement}). Raise FunctionOptions.MemoryMiB or use less memory.";

    private void ReleaseResources(string containerId)
    {
        DeleteWebFolder(containerId);
        if (_resources.TryRemove(containerId, out var resources))
        {
            resources.Dispose();
        }
        if (_networks.TryRemove(containerId, out var network))
        {
            network.Dispose();
        }
    }

    /// <summary>
    /// How the web forwarder reaches a server container: an app's socket in its web folder; a server's port inside the
    /// container's own network namespace (the one the runner made, or for a blocked network bubblewrap's), or, in a
    /// container that shares the node's network (no isolation, or none possible here), the node's loopback.
    /// </summary>
    private static WebContainer WebContainerFor(
        CatalogEntry entry, string containerId, string webFolder, ContainerProcess process, IContainerLauncher launcher, ContainerNetwork? network)
    {
        var function = entry.Function;
        var web = function.Web!;
        var limit = Math.Max(1, function.MaxConcurrentInputs);
        if (web.Kind == WebEndpointKinds.AspNetApp)
        {
            return WebContainer.ForSocket(containerId, Path.Combine(webFolder, Path.GetFileName(ContainerProtocol.WebSocketPathInContainer)),
                function.Timeout, limit);
        }
        var port = web.Port ?? throw new ContainerCrashedException($"{entry.AppName}.{function.Name} is a web server without a port.");
        Func<string?>? namespacePath = network is not null ? () => network.Path
            : launcher.Isolates && function.BlockNetwork ? () => WebContainer.SandboxNamespaceOf(process.ProcessId)
            : null;
        return WebContainer.ForPort(containerId, port, namespacePath, function.Timeout, limit);
    }

    /// <summary>A server container's web folder (its app's socket), handed to the container's uid; seen at <c>/run/modal-web</c>.</summary>
    private string CreateWebFolder(string containerId, IContainerLauncher launcher)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("Server containers (a web folder bound into the container) need Linux.");
        }
        var folder = WebFolderOf(containerId);
        var parent = Path.GetDirectoryName(folder)!;
        // Searchable, not listable, by the containers' uid: each reaches its own folder by name only.
        Directory.CreateDirectory(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute
            | UnixFileMode.GroupExecute);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true); // A killed runner's leftover under the same id.
        }
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        launcher.HandOver(folder);
        return folder;
    }

    private string WebFolderOf(string containerId) => Path.Combine(Path.GetFullPath(options.Value.RuntimeDirectory), "web", containerId);

    private void DeleteWebFolder(string containerId)
    {
        try
        {
            Directory.Delete(WebFolderOf(containerId), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Not a server container, or deleted already.
        }
        catch (IOException e)
        {
            LogWebFolderNotDeleted(logger, containerId, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The web folder of container {ContainerId} could not be deleted: {Reason}")]
    private static partial void LogWebFolderNotDeleted(ILogger logger, string containerId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId} of {App}.{Function} is NOT isolated: {Reason}")]
    private static partial void LogNotIsolated(ILogger logger, string containerId, string app, string function, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container {ContainerId} of {App}.{Function} is isolated less than it should be: {Reason}")]
    private static partial void LogWeakened(ILogger logger, string containerId, string app, string function, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "[{ContainerId} {Stream}] {Line}")]
    private static partial void LogContainerOutput(ILogger logger, string containerId, string stream, string line);
}

/// <summary>A started container: its process and, for a server container, how its app is reached (ready for requests).</summary>
public sealed record StartedContainer(ContainerProcess Process, WebContainer? Web);
