using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Modal.Container.Protocol;
using Modal.Api.Contracts;
using Modal.GpuRunner.Bundles;
using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Domain;
using Modal.Volumes;

namespace Modal.GpuRunner.Volumes;

/// <summary>
/// The Volumes mounted into this node's containers. Each mount is a folder of the runner's holding the Volume's latest
/// version, copied from the blob cache (copies, not hard links: the container may change its files, and the cache must
/// stay what its hashes say), and announced to the container in <see cref="VolumeMountAnnouncement.Variable"/>. An isolated
/// container sees the folder at the mount path itself, and the folders' sync state at <see cref="StatePath"/> (so a
/// <c>Volume.CommitAsync</c> inside it and the runner's commit at stop agree on what changed); a plain process
/// is told the folder. When the container stops its changes are committed and the folders removed.
/// </summary>
public sealed partial class ContainerVolumes(
    BundleCache blobs, IHttpClientFactory httpClients, IHttpMessageHandlerFactory handlers, IOptions<GpuRunnerOptions> options,
    ILogger<ContainerVolumes> logger)
{
    private readonly ConcurrentDictionary<string, IReadOnlyList<VolumeDirectory>> _mounted = new(StringComparer.Ordinal);

    /// <summary>Where an isolated container sees the folder of its mounts' sync state.</summary>
    public const string StatePath = "/run/modal-volumes";

    /// <summary>
    /// Fills a folder per Volume of <paramref name="entry"/>'s function; returns the announcement and, for an isolated
    /// container (<paramref name="handOver"/> given), the binds that put each folder at its mount path, after handing the
    /// folders to the container's uid with <paramref name="handOver"/> (they are copies, so the container may own and
    /// change them; the cache stays the runner's). Null when it mounts none.
    /// </summary>
    public async Task<MountedVolumes?> MountAsync(CatalogEntry entry, string containerId, Action<string>? handOver, CancellationToken cancellationToken)
    {
        var atMountPaths = handOver is not null;
        if (entry.Function.Volumes.Count == 0)
        {
            return null;
        }
        var http = StorageClient(entry.WorkspaceId);
        var root = Path.Combine(Path.GetFullPath(options.Value.CacheDirectory), "mounts", containerId);
        var mounts = new List<VolumeMount>();
        var binds = new List<ContainerBind>();
        var directories = new List<VolumeDirectory>();
        _mounted[containerId] = directories;
        foreach (var (mountPath, volume) in entry.Function.Volumes.OrderBy(v => v.Key, StringComparer.Ordinal))
        {
            // The function names Volumes by name only; like Modal's from_name(create_if_missing=True) at deploy, a
            // missing one is created empty.
            using (var created = await http.PutAsync(new Uri($"/v1/volumes/{Uri.EscapeDataString(volume)}", UriKind.Relative), null, cancellationToken))
            {
                created.EnsureSuccessStatusCode();
            }
            var folder = directories.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var directory = new VolumeDirectory(http, volume, Path.Combine(root, folder));
            directories.Add(directory);
            var version = await directory.SyncAsync((hash, target, token) => CopyFromCacheAsync(entry.WorkspaceId, hash, target, token), cancellationToken);
            if (atMountPaths)
            {
                binds.Add(new ContainerBind(directory.Directory, mountPath));
                mounts.Add(new VolumeMount(mountPath, volume, mountPath, $"{StatePath}/{folder}.modal-volume.json"));
            }
            else
            {
                mounts.Add(new VolumeMount(mountPath, volume, directory.Directory));
            }
            LogMounted(logger, volume, version, containerId, directory.Directory);
        }
        if (handOver is not null)
        {
            // The folders and their sync state: the container's Volume.ReloadAsync rewrites both.
            handOver(root);
            binds.Add(new ContainerBind(root, StatePath));
        }
        return new MountedVolumes(VolumeMountAnnouncement.Describe(mounts), binds);
    }

    /// <summary>Commits a stopped container's changes (unless it crashed) and removes its folders.</summary>
    public async Task ReleaseAsync(string containerId, bool commit)
    {
        if (!_mounted.TryRemove(containerId, out var directories))
        {
            return;
        }
        foreach (var directory in directories)
        {
            try
            {
                if (commit && await directory.CommitAsync(CancellationToken.None) is { } committed)
                {
                    LogCommitted(logger, directory.VolumeName, committed.Version, containerId);
                }
            }
            catch (Exception e) when (e is HttpRequestException or ArgumentException or IOException or ObjectDisposedException)
            {
                // The container is gone either way; its changes are lost as when a Modal container dies uncommitted. (Disposed:
                // the runner is shutting down and its HTTP handlers went first; an exception here would stop the disposal of
                // what comes after, such as the network namespaces kept ready.)
                LogCommitFailed(logger, e, directory.VolumeName, containerId);
            }
        }
        var root = Path.Combine(Path.GetFullPath(options.Value.CacheDirectory), "mounts", containerId);
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private async Task CopyFromCacheAsync(Guid workspaceId, string hash, string target, CancellationToken cancellationToken)
    {
        var blob = await blobs.EnsureBlobAsync(workspaceId, hash, cancellationToken);
        File.Copy(blob, target, overwrite: true);
    }

    private HttpClient StorageClient(Guid workspaceId)
    {
        var baseAddress = httpClients.CreateClient(BundleCache.StorageClientName).BaseAddress;
        // The client lives as long as the container, which may outlast any one credential: each request gets a fresh one.
        var http = new HttpClient(new WorkspaceHandler(workspaceId)
        {
            InnerHandler = handlers.CreateHandler(BundleCache.StorageClientName),
        }, disposeHandler: false)
        {
            BaseAddress = baseAddress,
            // Large Volume files are copied through this client.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        return http;
    }

    /// <summary>Names the container's workspace on each request; the storage client's own handler signs it (<see cref="StorageWorkspace"/>).</summary>
    private sealed class WorkspaceHandler(Guid workspaceId) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            StorageWorkspace.Name(request, workspaceId);
            return base.SendAsync(request, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {Volume} (version {Version}) mounted for {ContainerId} at {Directory}")]
    private static partial void LogMounted(ILogger logger, string volume, string version, string containerId, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Volume {Volume}: changes of {ContainerId} committed as version {Version}")]
    private static partial void LogCommitted(ILogger logger, string volume, string version, string containerId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Volume {Volume}: the changes of {ContainerId} could not be committed")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, string volume, string containerId);
}

/// <summary>A container's Volumes: the announcement for <see cref="VolumeMountAnnouncement.Variable"/> and what to bind where.</summary>
public sealed record MountedVolumes(string Announcement, IReadOnlyList<ContainerBind> Binds);
