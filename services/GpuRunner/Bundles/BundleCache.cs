using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Modal.Container.Protocol;

namespace Modal.GpuRunner.Bundles;

/// <summary>
/// App bundles on this node, fetched from Storage by id and kept: files live once in <c>blobs/</c> (by hash, so a
/// redeploy downloads only what changed) and each bundle is a folder of hard links to them.
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

    /// <summary>The bundle's folder and manifest, downloading what is missing (once, even when asked concurrently).</summary>
    public async Task<PreparedBundle> GetAsync(string bundleId, CancellationToken cancellationToken)
    {
        if (!BundleManifest.IsSafePath(bundleId) || bundleId.Length != 64)
        {
            throw new InvalidDataException($"'{bundleId}' is not a bundle id.");
        }
        var preparing = _bundles.GetOrAdd(bundleId, id => new Lazy<Task<PreparedBundle>>(() => PrepareAsync(id, CancellationToken.None)));
        try
        {
            return await preparing.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (preparing.Value.IsFaulted)
        {
            // Let the next input try again (Storage may have been briefly away).
            _bundles.TryRemove(new KeyValuePair<string, Lazy<Task<PreparedBundle>>>(bundleId, preparing));
            throw;
        }
    }

    private async Task<PreparedBundle> PrepareAsync(string bundleId, CancellationToken cancellationToken)
    {
        var manifestPath = await EnsureBlobAsync(bundleId, cancellationToken);
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
            var blob = await EnsureBlobAsync(file.Sha256, cancellationToken);
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

    /// <summary>The local path of a blob, downloaded and verified against its hash if not present yet (Volume mounts copy from it).</summary>
    public async Task<string> EnsureBlobAsync(string hash, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_root, "blobs", hash);
        if (File.Exists(path))
        {
            return path;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var partial = $"{path}.{Guid.NewGuid():N}.partial";
        var http = httpClients.CreateClient(StorageClientName);
        using (var response = await http.GetAsync(new Uri($"/v1/blobs/{hash}", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken))
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
        return path;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Bundle {BundleId} ready ({FileCount} files)")]
    private static partial void LogBundleReady(ILogger logger, string bundleId, int fileCount);
}

/// <summary>A bundle unpacked on this node.</summary>
public sealed record PreparedBundle(string BundleId, string Directory, BundleManifest Manifest);
