using Modal.Api.Contracts.Objects;
using Modal.Api.Contracts.Volumes;
using Refit;

namespace Modal.Rest;

/// <summary>
/// Low-level REST client for <c>/v1/volumes</c>; usable on its own from any .NET application. File content travels as
/// content-addressed blobs (<see cref="IBlobsApi"/>) named by <see cref="CommitAsync"/>. Paths go in the query string.
/// Errors are problem details: 400 for an invalid name or a path with "..", 404 naming a missing Volume or file, 409 for
/// a put over an existing file without force or a rename onto a taken name, 416 for a range outside the file.
/// </summary>
public interface IVolumesApi
{
    /// <summary>Lists the workspace's Volumes by name.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/volumes")]
    Task<IReadOnlyList<StorageObjectInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Gets a Volume, creating it when missing.</summary>
    /// <param name="name">The Volume's name.</param>
    /// <param name="ephemeral">Create it ephemeral (kept only while <see cref="HeartbeatAsync"/> is called).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Put("/v1/volumes/{name}")]
    Task<StorageObjectInfo> EnsureAsync(string name, [Query] bool? ephemeral = null, CancellationToken cancellationToken = default);

    /// <summary>Gets a Volume; 404 when there is none of that name.</summary>
    /// <param name="name">The Volume's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/volumes/{name}")]
    Task<StorageObjectInfo> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes a Volume.</summary>
    /// <param name="name">The Volume's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/volumes/{name}")]
    Task DeleteAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Keeps an ephemeral Volume alive; a no-op for others.</summary>
    /// <param name="name">The Volume's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/volumes/{name}/heartbeat")]
    Task HeartbeatAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Renames a Volume; 409 when the new name is taken.</summary>
    /// <param name="name">The Volume's name.</param>
    /// <param name="to">Its new name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/volumes/{name}/rename")]
    Task RenameAsync(string name, [Query] string to, CancellationToken cancellationToken = default);

    /// <summary>The latest version with every file.</summary>
    /// <param name="name">The Volume's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/volumes/{name}/manifest")]
    Task<VolumeManifest> GetManifestAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Files and folders in a folder (everything below it with <paramref name="recursive"/>); a file lists itself.</summary>
    /// <param name="name">The Volume's name.</param>
    /// <param name="path">The folder ("/" or null for the root).</param>
    /// <param name="recursive">List the whole tree.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/volumes/{name}/entries")]
    Task<IReadOnlyList<VolumeEntry>> ListEntriesAsync(
        string name, [Query] string? path = null, [Query] bool? recursive = null, CancellationToken cancellationToken = default);

    /// <summary>Reads a file, streamed; <paramref name="range"/> (<c>bytes=0-99</c>) asks for part of it (206).</summary>
    /// <param name="name">The Volume's name.</param>
    /// <param name="path">The file.</param>
    /// <param name="range">An HTTP Range header value, or null for the whole file.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/volumes/{name}/file")]
    Task<HttpResponseMessage> ReadFileAsync(
        string name, [Query] string path, [Header("Range")] string? range = null, CancellationToken cancellationToken = default);

    /// <summary>Removes a file, or a folder with <paramref name="recursive"/>.</summary>
    /// <param name="name">The Volume's name.</param>
    /// <param name="path">The file or folder.</param>
    /// <param name="recursive">Remove a folder with everything in it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/volumes/{name}/file")]
    Task RemoveFileAsync(string name, [Query] string path, [Query] bool? recursive = null, CancellationToken cancellationToken = default);

    /// <summary>Applies puts and deletes to the latest version in one step.</summary>
    /// <param name="name">The Volume's name.</param>
    /// <param name="commit">The changes.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/volumes/{name}/commit")]
    Task<VolumeCommitResult> CommitAsync(string name, [Body] VolumeCommitRequest commit, CancellationToken cancellationToken = default);

    /// <summary>Copies files or folders inside the Volume (content is shared, not duplicated).</summary>
    /// <param name="name">The Volume's name.</param>
    /// <param name="copy">Sources and destination.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/volumes/{name}/copy")]
    Task CopyAsync(string name, [Body] VolumeCopyRequest copy, CancellationToken cancellationToken = default);
}
