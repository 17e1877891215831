using System.Net.Http.Headers;
using Modal.Container.Protocol;
using Modal.Api.Contracts.Objects;
using Modal.Api.Contracts.Volumes;
using Modal.Rest;
using Modal.Volumes;

namespace Modal;

/// <summary>
/// A persistent, shared file system of a workspace, as Modal's <c>modal.Volume</c>: files are stored once by content
/// (SHA-256) and every change makes a new version. Mounted into a function (<see cref="FunctionOptions.Volumes"/>), it
/// holds the latest version at container start; <see cref="CommitAsync"/> publishes the container's changes (a
/// container's changes are also committed when it stops) and <see cref="ReloadAsync"/> fetches others'. There is no
/// locking: commits from several containers all land, and of two writes to one file the later commit wins.
/// </summary>
/// <remarks>
/// In an isolated container a mount is at its literal path (<c>/models/x</c>). A runner without isolation keeps it in a
/// folder of its own: <see cref="LocalPath"/> (or <see cref="VolumeMounts.LocalPath"/>) turns <c>/models/x</c> into the
/// real path on either.
/// </remarks>
/// <example>
/// <code>
/// var volume = Volume.FromName(client, "models", createIfMissing: true);
/// var batch = volume.BatchUpload();
/// batch.PutFile("weights.bin", "/resnet/weights.bin");
/// await batch.CommitAsync();
/// await using var weights = await volume.ReadFileAsync("/resnet/weights.bin");
/// </code>
/// </example>
public sealed class Volume : IAsyncDisposable
{
    private readonly ModalClient _client;
    private readonly bool _createIfMissing;
    private readonly EphemeralLease? _lease;
    private readonly ObjectHandle _handle;

    private Volume(ModalClient client, string name, bool createIfMissing, EphemeralLease? lease)
    {
        _client = client;
        Name = name;
        _createIfMissing = createIfMissing;
        _lease = lease;
        _handle = new ObjectHandle(createIfMissing, token => client.Volumes.EnsureAsync(name, cancellationToken: token));
    }

    /// <summary>The Volume's name.</summary>
    public string Name { get; }

    /// <summary>True for a Volume from <see cref="EphemeralAsync"/>.</summary>
    public bool IsEphemeral => _lease is not null;

    /// <summary>Where this Volume is mounted in this container (null when it is not, e.g. outside a container).</summary>
    public VolumeMount? Mount => VolumeMounts.All.FirstOrDefault(m => m.Volume == Name);

    /// <summary>
    /// A handle to the Volume named <paramref name="name"/>. Nothing is sent yet: with <paramref name="createIfMissing"/>
    /// the first operation creates it if needed; without, operations on a missing Volume throw <see cref="NotFoundException"/>.
    /// </summary>
    /// <param name="client">The connection (inside a function: <see cref="App.Client"/>).</param>
    /// <param name="name">1-64 letters, digits, '-', '_' or '.'.</param>
    /// <param name="createIfMissing">Create the Volume on first use when it does not exist.</param>
    public static Volume FromName(ModalClient client, string name, bool createIfMissing = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Volume(client, name, createIfMissing, lease: null);
    }

    /// <summary>Creates a Volume with a generated name that is deleted when the handle is disposed (or about a minute after its process dies).</summary>
    /// <param name="client">The connection.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public static async Task<Volume> EphemeralAsync(ModalClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var (name, lease) = await ObjectLifecycle.Of(client.Volumes).CreateEphemeralAsync(cancellationToken).ConfigureAwait(false);
        return new Volume(client, name, createIfMissing: false, lease);
    }

    /// <summary>The workspace's Volumes by name.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public static Task<IReadOnlyList<StorageObjectInfo>> ListAsync(ModalClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Volumes.ListAsync(cancellationToken));
    }

    /// <summary>Deletes the Volume named <paramref name="name"/>.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="name">The Volume's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">There is no such Volume.</exception>
    public static Task DeleteAsync(ModalClient client, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Volumes.DeleteAsync(name, cancellationToken));
    }

    /// <summary>Renames the Volume <paramref name="name"/> to <paramref name="newName"/>, files and all.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="name">The Volume's name.</param>
    /// <param name="newName">Its new name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">There is no such Volume.</exception>
    /// <exception cref="AlreadyExistsException">A Volume named <paramref name="newName"/> exists.</exception>
    public static Task RenameAsync(ModalClient client, string name, string newName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Volumes.RenameAsync(name, newName, cancellationToken));
    }

    /// <summary>The Volume as the platform lists it (creating it first when the handle was made with <c>createIfMissing</c>).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<StorageObjectInfo> InfoAsync(CancellationToken cancellationToken = default) =>
        ObjectLifecycle.Of(_client.Volumes).InfoAsync(Name, _createIfMissing, cancellationToken);

    /// <summary>Streams a file (dispose the stream when done).</summary>
    /// <param name="path">The file's path in the Volume.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">No such file (the message names it) or Volume.</exception>
    /// <exception cref="ArgumentException">The path has "..".</exception>
    public Task<Stream> ReadFileAsync(string path, CancellationToken cancellationToken = default) =>
        ReadAsync(path, null, cancellationToken);

    /// <summary>Streams <paramref name="length"/> bytes of a file from <paramref name="offset"/> (to its end when null).</summary>
    /// <param name="path">The file's path in the Volume.</param>
    /// <param name="offset">First byte.</param>
    /// <param name="length">How many bytes (fewer when the file ends first).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="ArgumentOutOfRangeException">The offset is at or past the end of the file.</exception>
    public Task<Stream> ReadFileAsync(string path, long offset, long? length = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (length is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), "Read at least one byte.");
        }
        return ReadAsync(path, new RangeHeaderValue(offset, length is { } n ? offset + n - 1 : null).ToString(), cancellationToken);
    }

    /// <summary>Copies a whole file into <paramref name="destination"/>, streamed.</summary>
    /// <param name="path">The file's path in the Volume.</param>
    /// <param name="destination">Where to write it.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    public async Task ReadFileIntoAsync(string path, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        await using var source = await ReadFileAsync(path, cancellationToken).ConfigureAwait(false);
        await source.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The files and folders in <paramref name="path"/>, or the whole tree below it with <paramref name="recursive"/>.</summary>
    /// <param name="path">A folder ("/" for the root); a file lists itself.</param>
    /// <param name="recursive">List everything below the folder.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<IReadOnlyList<VolumeEntry>> ListDirAsync(string path = "/", bool recursive = false, CancellationToken cancellationToken = default) =>
        _handle.RunAsync(() => _client.Volumes.ListEntriesAsync(Name, path, recursive ? true : null, cancellationToken), cancellationToken);

    /// <summary>Removes a file, or a folder with <paramref name="recursive"/>.</summary>
    /// <param name="path">The file or folder.</param>
    /// <param name="recursive">Remove a folder and everything in it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">Nothing is at <paramref name="path"/>.</exception>
    public Task RemoveFileAsync(string path, bool recursive = false, CancellationToken cancellationToken = default) =>
        _handle.RunAsync(() => _client.Volumes.RemoveFileAsync(Name, path, recursive ? true : null, cancellationToken), cancellationToken);

    /// <summary>
    /// Copies files or folders inside the Volume with <c>cp</c> semantics: into <paramref name="destination"/> when it is a
    /// folder (it exists, ends with '/', or there are several sources), else to that name. Content is not duplicated.
    /// </summary>
    /// <param name="sources">Files or folders.</param>
    /// <param name="destination">A new name or a folder.</param>
    /// <param name="recursive">Copy folders (required for them).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task CopyFilesAsync(IEnumerable<string> sources, string destination, bool recursive = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var copy = new VolumeCopyRequest(sources.ToList(), destination, recursive);
        return _handle.RunAsync(() => _client.Volumes.CopyAsync(Name, copy, cancellationToken), cancellationToken);
    }

    /// <summary>Starts a batch of uploads that land in one commit (<see cref="VolumeUploadBatch.CommitAsync"/>).</summary>
    /// <param name="force">Replace existing files; without it the commit is refused (<see cref="AlreadyExistsException"/>) when one exists.</param>
    public VolumeUploadBatch BatchUpload(bool force = false) => new(this, force);

    /// <summary>
    /// The local path of <paramref name="path"/> in this Volume's mount (e.g. <c>/models/x</c> → the runner's folder).
    /// </summary>
    /// <param name="path">A path under the mount path.</param>
    /// <exception cref="InvalidOperationException">The Volume is not mounted in this container.</exception>
    public string LocalPath(string path) =>
        Mount is not null ? VolumeMounts.LocalPath(path) : throw NotMounted();

    /// <summary>
    /// Publishes this container's changes to the mounted Volume (files added, changed or deleted since the container
    /// started or last committed or reloaded); a no-op where the Volume is not mounted. Needs the container's Api
    /// connection (<c>MODAL_SERVER_URL</c>, <c>MODAL_TOKEN_ID</c>, <c>MODAL_TOKEN_SECRET</c>).
    /// </summary>
    /// <param name="cancellationToken">Cancels the commit.</param>
    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        if (Mount is { } mount)
        {
            await new VolumeDirectory(Storage, Name, mount.Directory, mount.State).CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Brings the mount to the Volume's latest version, discarding uncommitted changes (as Modal's <c>reload</c>); a
    /// no-op where the Volume is not mounted.
    /// </summary>
    /// <param name="cancellationToken">Cancels the reload.</param>
    public async Task ReloadAsync(CancellationToken cancellationToken = default)
    {
        if (Mount is { } mount)
        {
            await new VolumeDirectory(Storage, Name, mount.Directory, mount.State).SyncAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes an ephemeral Volume; nothing for a named one.</summary>
    public ValueTask DisposeAsync() => _lease?.DisposeAsync() ?? ValueTask.CompletedTask;

    internal ModalClient Client => _client;

    /// <summary>The Volume and blob requests of the sync and of batch uploads, failing with the SDK's typed exceptions.</summary>
    internal VolumeHttp Storage => new(_client.StorageHttp, StorageCalls.Translate);

    internal Task<T> RunAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken) => _handle.RunAsync(call, cancellationToken);

    private async Task<Stream> ReadAsync(string path, string? range, CancellationToken cancellationToken)
    {
        var response = await _handle.RunAsync(() => _client.Volumes.ReadFileAsync(Name, path, range, cancellationToken), cancellationToken)
            .ConfigureAwait(false);
        await StorageCalls.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    private InvalidOperationException NotMounted() =>
        new($"Volume '{Name}' is not mounted in this container: name it in the function's Volumes option.");
}

/// <summary>
/// Files to upload to a Volume in one commit, as Modal's <c>batch_upload</c>: content is hashed locally, only what the
/// platform lacks is sent (small files directly, several at a time), and one commit names them all.
/// </summary>
public sealed class VolumeUploadBatch
{
    private readonly Volume _volume;
    private readonly bool _force;
    private readonly List<(string LocalPath, string RemotePath)> _files = [];

    internal VolumeUploadBatch(Volume volume, bool force)
    {
        _volume = volume;
        _force = force;
    }

    /// <summary>Adds one local file, to be stored at <paramref name="remotePath"/>.</summary>
    /// <param name="localPath">The local file.</param>
    /// <param name="remotePath">Its path in the Volume.</param>
    public VolumeUploadBatch PutFile(string localPath, string remotePath)
    {
        if (!File.Exists(localPath))
        {
            throw new FileNotFoundException($"'{localPath}' is not a file.", localPath);
        }
        _files.Add((localPath, remotePath));
        return this;
    }

    /// <summary>Adds every file under a local folder, stored under <paramref name="remotePath"/> with the same layout.</summary>
    /// <param name="localPath">The local folder.</param>
    /// <param name="remotePath">The folder in the Volume.</param>
    public VolumeUploadBatch PutDirectory(string localPath, string remotePath)
    {
        if (!Directory.Exists(localPath))
        {
            throw new DirectoryNotFoundException($"'{localPath}' is not a folder.");
        }
        foreach (var file in Directory.EnumerateFiles(localPath, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(localPath, file).Replace(Path.DirectorySeparatorChar, '/');
            _files.Add((file, $"{remotePath.TrimEnd('/')}/{relative}"));
        }
        return this;
    }

    /// <summary>Uploads the content the platform lacks and commits every file in one step.</summary>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>The new version.</returns>
    /// <exception cref="AlreadyExistsException">Without <c>force</c>, a file exists at one of the paths (nothing is committed).</exception>
    public async Task<VolumeCommitResult> CommitAsync(CancellationToken cancellationToken = default)
    {
        var client = _volume.Client;
        var name = _volume.Name;
        await _volume.InfoAsync(cancellationToken).ConfigureAwait(false);
        var hashed = await VolumeBlobs.HashAllAsync(_files.Select(f => f.LocalPath).ToList(), cancellationToken).ConfigureAwait(false);
        await VolumeBlobs.UploadAsync(_volume.Storage, hashed, cancellationToken).ConfigureAwait(false);
        var puts = _files.Select((f, i) => new VolumePut(f.RemotePath, hashed[i].Sha256, File.GetLastWriteTimeUtc(f.LocalPath))).ToList();
        return await _volume.RunAsync(() => client.Volumes.CommitAsync(name, new VolumeCommitRequest(puts, null, _force), cancellationToken), cancellationToken)
            .ConfigureAwait(false);
    }
}
