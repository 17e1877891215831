using System.Text.Json;
using Modal.Api.Contracts.Volumes;

namespace Modal.Volumes;

/// <summary>
/// A local folder holding a copy of a Volume (a container's mount): brought to the latest version by
/// <see cref="SyncAsync"/>, its changes sent by <see cref="CommitAsync"/>. What the folder held at the last sync or
/// commit is kept next to it (<c>{folder}.modal-volume.json</c>: path → hash, size, modification time), so a commit sends
/// only files added, changed (size or time differ and the content hash too) or deleted since, and leaves other
/// containers' changes to other files alone: commits from several containers all land, the later one winning per file.
/// </summary>
/// <remarks>
/// The SDK's <c>Volume.CommitAsync</c> inside a container and the runner's commit when the container stops both use this
/// type on the same folder and state file, so the format of that file is theirs to share.
/// </remarks>
public sealed class VolumeDirectory
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly VolumeHttp _storage;

    /// <summary>A folder kept in step with <paramref name="volumeName"/>.</summary>
    /// <param name="http">A client whose base address serves <c>/v1/volumes</c> and <c>/v1/blobs</c> for the Volume's
    /// workspace: the Api with a token, or (inside the platform) Storage with the workspace header.</param>
    /// <param name="volumeName">The Volume.</param>
    /// <param name="directory">The local folder (created when missing).</param>
    /// <param name="stateFile">Where to keep the sync state; null: <c>{folder}.modal-volume.json</c> next to the folder. An
    /// isolated container's folder is a mount point whose parent it cannot write, so the runner names a file elsewhere.</param>
    /// <exception cref="ArgumentNullException"><paramref name="http"/> is null.</exception>
    /// <remarks>An unsuccessful answer from the platform throws an <see cref="HttpRequestException"/> with its status.</remarks>
    public VolumeDirectory(HttpClient http, string volumeName, string directory, string? stateFile = null)
        : this(new VolumeHttp(http), volumeName, directory, stateFile)
    {
    }

    /// <summary>The SDK's: <paramref name="storage"/> turns unsuccessful answers into its typed exceptions.</summary>
    internal VolumeDirectory(VolumeHttp storage, string volumeName, string directory, string? stateFile)
    {
        _storage = storage;
        VolumeName = volumeName;
        Directory = Path.GetFullPath(directory);
        StatePath = stateFile ?? Directory.TrimEnd(Path.DirectorySeparatorChar) + ".modal-volume.json";
    }

    /// <summary>The Volume's name.</summary>
    public string VolumeName { get; }

    /// <summary>The local folder.</summary>
    public string Directory { get; }

    private string StatePath { get; }

    /// <summary>
    /// Makes the folder hold the Volume's latest version: missing and changed files are written, files the version lacks
    /// are deleted (uncommitted changes are lost, as with Modal's <c>reload</c>). Returns the version.
    /// </summary>
    /// <param name="fetch">Writes a blob (by hash) to a path; null downloads it through the client. A runner passes one
    /// that copies from its blob cache: a copy, never a hard link, since the container may change the file.</param>
    /// <param name="cancellationToken">Cancels the sync.</param>
    public async Task<string> SyncAsync(Func<string, string, CancellationToken, Task>? fetch = null, CancellationToken cancellationToken = default)
    {
        fetch ??= (hash, target, token) => VolumeBlobs.DownloadAsync(_storage, hash, target, token);
        var manifest = await _storage.GetManifestAsync(VolumeName, cancellationToken).ConfigureAwait(false);
        System.IO.Directory.CreateDirectory(Directory);
        var state = ReadState();
        var local = Scan();
        var files = new Dictionary<string, FileState>(StringComparer.Ordinal);
        foreach (var file in manifest.Files)
        {
            var target = LocalPath(file.Path);
            if (!(local.TryGetValue(file.Path, out var onDisk) && state.Files.TryGetValue(file.Path, out var known)
                && known.Sha256 == file.Sha256 && known.Size == onDisk.Size && known.Modified == onDisk.Modified))
            {
                System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                if (System.IO.Directory.Exists(target))
                {
                    System.IO.Directory.Delete(target, recursive: true);
                }
                await fetch(file.Sha256, target, cancellationToken).ConfigureAwait(false);
                File.SetLastWriteTimeUtc(target, file.Modified.UtcDateTime);
            }
            files[file.Path] = new FileState(file.Sha256, file.Size, File.GetLastWriteTimeUtc(target).Ticks);
        }
        foreach (var gone in local.Keys.Where(path => !files.ContainsKey(path)))
        {
            File.Delete(LocalPath(gone));
        }
        await WriteStateAsync(new DirectoryState(manifest.Version, files), cancellationToken).ConfigureAwait(false);
        return manifest.Version;
    }

    /// <summary>Sends the folder's changes since the last sync or commit; null when there were none.</summary>
    /// <param name="cancellationToken">Cancels the commit.</param>
    public async Task<VolumeCommitResult?> CommitAsync(CancellationToken cancellationToken = default)
    {
        var state = ReadState();
        var local = Scan();
        var files = new Dictionary<string, FileState>(StringComparer.Ordinal);
        var changed = new List<(string Path, DateTimeOffset Modified)>();
        foreach (var (path, onDisk) in local)
        {
            if (state.Files.TryGetValue(path, out var known) && known.Size == onDisk.Size && known.Modified == onDisk.Modified)
            {
                files[path] = known;
                continue;
            }
            changed.Add((path, new DateTimeOffset(onDisk.Modified, TimeSpan.Zero)));
        }
        var hashed = await VolumeBlobs.HashAllAsync(changed.Select(c => LocalPath(c.Path)).ToList(), cancellationToken).ConfigureAwait(false);
        var puts = new List<VolumePut>();
        for (var i = 0; i < changed.Count; i++)
        {
            var (path, modified) = changed[i];
            files[path] = new FileState(hashed[i].Sha256, hashed[i].Size, modified.UtcTicks);
            // Touched but not changed: nothing to send.
            if (!(state.Files.TryGetValue(path, out var known) && known.Sha256 == hashed[i].Sha256))
            {
                puts.Add(new VolumePut(path, hashed[i].Sha256, modified));
            }
        }
        var deletes = state.Files.Keys.Where(path => !local.ContainsKey(path)).ToList();
        if (puts.Count == 0 && deletes.Count == 0)
        {
            await WriteStateAsync(state with { Files = files }, cancellationToken).ConfigureAwait(false);
            return null;
        }
        var sending = new HashSet<string>(puts.Select(p => p.Sha256), StringComparer.Ordinal);
        await VolumeBlobs.UploadAsync(_storage, hashed.Where(h => sending.Contains(h.Sha256)), cancellationToken).ConfigureAwait(false);
        var result = await _storage.CommitAsync(VolumeName, new VolumeCommitRequest(puts, deletes, Force: true), cancellationToken).ConfigureAwait(false);
        await WriteStateAsync(new DirectoryState(result.Version, files), cancellationToken).ConfigureAwait(false);
        return result;
    }

    private string LocalPath(string volumePath) => Path.Combine(Directory, volumePath.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Every file in the folder: Volume path → size and modification time (UTC ticks).</summary>
    private Dictionary<string, (long Size, long Modified)> Scan()
    {
        var files = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        if (!System.IO.Directory.Exists(Directory))
        {
            return files;
        }
        foreach (var info in new DirectoryInfo(Directory).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var relative = Path.GetRelativePath(Directory, info.FullName).Replace(Path.DirectorySeparatorChar, '/');
            files[relative] = (info.Length, info.LastWriteTimeUtc.Ticks);
        }
        return files;
    }

    private DirectoryState ReadState() =>
        File.Exists(StatePath)
            ? JsonSerializer.Deserialize<DirectoryState>(File.ReadAllBytes(StatePath), Json) ?? DirectoryState.Empty
            : DirectoryState.Empty;

    private async Task WriteStateAsync(DirectoryState state, CancellationToken cancellationToken)
    {
        var partial = $"{StatePath}.{Guid.NewGuid():N}";
        await File.WriteAllBytesAsync(partial, JsonSerializer.SerializeToUtf8Bytes(state, Json), cancellationToken).ConfigureAwait(false);
        File.Move(partial, StatePath, overwrite: true);
    }

    private sealed record FileState(string Sha256, long Size, long Modified);

    private sealed record DirectoryState(string Version, Dictionary<string, FileState> Files)
    {
        public static DirectoryState Empty => new("", new Dictionary<string, FileState>(StringComparer.Ordinal));
    }
}
