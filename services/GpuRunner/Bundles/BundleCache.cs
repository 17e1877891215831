using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Modal.Container.Protocol;

namespace Modal.GpuRunner.Bundles;

/// <summary>
/// App bundles on this node, fetched from Storage by id and kept: files live once in <c>blobs/</c> (by hash, so a
/// redeploy downloads only what changed) and each bundle is a folder of hard links to them. Every fetch acts for the
/// app's workspace (<see cref="StorageWorkspace"/>), and a blob or bundle already on the node is handed to a workspace
/// only once Storage confirmed that workspace holds it: a manifest naming another workspace's file hashes gets nothing.
/// </summary>
public sealed partial class BundleCache(IHttpClientFactory httpClients, IOptions<GpuRunnerOptions> options, ILogger<BundleCache> logger)
{
    public const string StorageClientName = "storage";
    private const string CompleteMarker = ".modal-bundle-complete";

    /// <summary>rwxr-xr-x: an isolated container's uid reads its bundle, whatever the runner's umask.</summary>
    private const UnixFileMode SharedFolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private readonly string _root = Path.GetFullPath(options.Value.CacheDirectory);
    private readonly ConcurrentDictionary<string, Lazy<Task<PreparedBundle>>> _bundles = new(StringComparer.Ordinal);

    // (workspace, blob) pairs Storage confirmed on this runner: a blob on the node is another workspace's until then.
    private readonly ConcurrentDictionary<(Guid Workspace, string Hash), byte> _held = new();

    /// <summary>
    /// The bundle's folder and manifest for an app of <paramref name="workspaceId"/>, downloading what is missing (once,
    /// even when asked concurrently).
    /// </summary>
    public async Task<PreparedBundle> GetAsync(Guid workspaceId, string bundleId, CancellationToken cancellationToken)
    {
        if (!BundleManifest.IsSafePath(bundleId) || bundleId.Length != 64)
        {
            throw new InvalidDataException($"'{bundleId}' is not a bundle id.");
        }
        var preparing = _bundles.GetOrAdd(bundleId, id => new Lazy<Task<PreparedBundle>>(() => PrepareAsync(workspaceId, id, CancellationToken.None)));
        try
        {
            var bundle = await preparing.Value.WaitAsync(cancellationToken);
            await RequireHeldAsync(workspaceId, [bundleId, .. bundle.Manifest.Files.Select(f => f.Sha256)], cancellationToken);
            return bundle;
        }
        catch (Exception) when (preparing.Value.IsFaulted)
        {
            // Let the next input try again (Storage may have been briefly away).
            _bundles.TryRemove(new KeyValuePair<string, Lazy<Task<PreparedBundle>>>(bundleId, preparing));
            throw;
        }
    }

    private async Task<PreparedBundle> PrepareAsync(Guid workspaceId, string bundleId, CancellationToken cancellationToken)
    {
        var manifestPath = await EnsureBlobAsync(workspaceId, bundleId, cancellationToken);
        var manifest = BundleManifest.Parse(await File.ReadAllBytesAsync(manifestPath, cancellationToken));
        var directory = Path.Combine(_root, "bundles", bundleId);
        if (File.Exists(Path.Combine(directory, CompleteMarker)))
        {
            return new PreparedBundle(bundleId, directory, manifest);
        }

        var staging = $"{directory}.{Guid.NewGuid():N}.partial";
        foreach (var file in manifest.Files)
        {
            if (!BundleManifest.IsSafePath(file.Path))
            {
                throw new InvalidDataException($"Bundle {bundleId} lists a path outside the bundle: '{file.Path}'.");
            }
            var blob = await EnsureBlobAsync(workspaceId, file.Sha256, cancellationToken);
            var target = Path.Combine(staging, file.Path);
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            }
            else
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target)!, SharedFolderMode);
            }
            HardLinks.LinkOrCopy(blob, target);
        }
        await File.WriteAllTextAsync(Path.Combine(staging, CompleteMarker), bundleId, cancellationToken);
        try
        {
            Directory.Move(staging, directory);
        }
        catch (IOException) when (File.Exists(Path.Combine(directory, CompleteMarker)))
        {
            // Another runner process on this node finished the same bundle first.
            Directory.Delete(staging, recursive: true);
        }
        LogBundleReady(logger, bundleId, manifest.Files.Count);
        return new PreparedBundle(bundleId, directory, manifest);
    }

    /// <summary>
    /// The local path of a blob of <paramref name="workspaceId"/>, downloaded and verified against its hash if not present
    /// yet (Volume mounts copy from it).
    /// </summary>
    public async Task<string> EnsureBlobAsync(Guid workspaceId, string hash, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_root, "blobs", hash);
        if (File.Exists(path))
        {
            await RequireHeldAsync(workspaceId, [hash], cancellationToken);
            return path;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var partial = $"{path}.{Guid.NewGuid():N}.partial";
        var http = httpClients.CreateClient(StorageClientName);
        using (var request = StorageWorkspace.For(workspaceId, HttpMethod.Get, $"/v1/blobs/{hash}"))
        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken))
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidDataException($"Storage answered {(int)response.StatusCode} for blob {hash}.");
            }
            await using var source = await response.Content.ReadAsStreamAsync(cancellationToken);
            await using var file = File.Create(partial);
            await source.CopyToAsync(file, cancellationToken);
        }
        await using (var written = File.OpenRead(partial))
        {
            if (Convert.ToHexStringLower(await SHA256.HashDataAsync(written, cancellationToken)) != hash)
            {
                File.Delete(partial);
                throw new InvalidDataException($"Blob {hash} from Storage does not match its hash.");
            }
        }
        // Readable by containers' uid, whatever the runner's umask (bundle files are hard links to blobs); never writable.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(partial, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        File.Move(partial, path, overwrite: true);
        _held[(workspaceId, hash)] = 0;
        return path;
    }

    /// <summary>
    /// Stores <paramref name="path"/> (a file this runner made and uploaded as <paramref name="workspaceId"/>'s blob
    /// <paramref name="hash"/>) as the node's copy of that blob, moving it.
    /// </summary>
    public void Adopt(Guid workspaceId, string hash, string path)
    {
        var target = Path.Combine(_root, "blobs", hash);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }
        File.Move(path, target, overwrite: true);
        _held[(workspaceId, hash)] = 0;
    }

    /// <summary>Fails unless <paramref name="workspaceId"/> holds every one of <paramref name="hashes"/> in Storage (asked once per pair).</summary>
    private async Task RequireHeldAsync(Guid workspaceId, IReadOnlyList<string> hashes, CancellationToken cancellationToken)
    {
        var unconfirmed = hashes.Where(hash => !_held.ContainsKey((workspaceId, hash))).Distinct(StringComparer.Ordinal).ToList();
        if (unconfirmed.Count == 0)
        {
            return;
        }
        var http = httpClients.CreateClient(StorageClientName);
        using var request = StorageWorkspace.For(workspaceId, HttpMethod.Post, "/v1/blobs/missing");
        request.Content = JsonContent.Create(unconfirmed);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidDataException($"Storage answered {(int)response.StatusCode} asking which blobs workspace {workspaceId} holds.");
        }
        var missing = await response.Content.ReadFromJsonAsync<List<string>>(cancellationToken) ?? [];
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"Workspace {workspaceId} holds no blob {missing[0]} in Storage ({missing.Count} of {unconfirmed.Count} missing).");
        }
        foreach (var hash in unconfirmed)
        {
            _held[(workspaceId, hash)] = 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Bundle {BundleId} ready ({FileCount} files)")]
    private static partial void LogBundleReady(ILogger logger, string bundleId, int fileCount);
}

/// <summary>A bundle unpacked on this node.</summary>
public sealed record PreparedBundle(string BundleId, string Directory, BundleManifest Manifest);
