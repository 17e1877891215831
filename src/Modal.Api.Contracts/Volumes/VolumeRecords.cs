namespace Modal.Api.Contracts.Volumes;

/// <summary>A file of a Volume version, as a manifest lists it.</summary>
/// <param name="Path">Path from the Volume's root, '/'-separated, without a leading '/'.</param>
/// <param name="Sha256">SHA-256 of the content (the blob that holds it).</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Modified">When it was last written.</param>
public sealed record VolumeFileEntry(string Path, string Sha256, long Size, DateTimeOffset Modified);

/// <summary>A whole Volume version: what a runner materialises into a mount.</summary>
/// <param name="Version">The version id ("" for a Volume never written).</param>
/// <param name="Files">Every file, by path.</param>
public sealed record VolumeManifest(string Version, IReadOnlyList<VolumeFileEntry> Files);

/// <summary>A file or folder of a Volume, as listed.</summary>
/// <param name="Path">Path from the Volume's root.</param>
/// <param name="Type"><c>file</c> or <c>directory</c>.</param>
/// <param name="Size">Size in bytes (0 for a folder).</param>
/// <param name="Modified">When the file was last written (a folder: its latest file).</param>
public sealed record VolumeEntry(string Path, string Type, long Size, DateTimeOffset Modified)
{
    /// <summary>True for a folder.</summary>
    public bool IsDirectory => Type == "directory";
}

/// <summary>A file to write in a commit, its content already uploaded to <c>/v1/blobs</c>.</summary>
/// <param name="Path">Path in the Volume.</param>
/// <param name="Sha256">The content's blob id.</param>
/// <param name="Modified">Modification time to record (default: the commit's time).</param>
public sealed record VolumePut(string Path, string Sha256, DateTimeOffset? Modified = null);

/// <summary>
/// Changes applied to a Volume's latest version in one step: deletes (missing paths ignored: a container's diff may
/// delete what another commit already removed), then puts.
/// </summary>
/// <param name="Puts">Files to write.</param>
/// <param name="Deletes">Files or folders to remove.</param>
/// <param name="Force">Replace existing files; without it a put over an existing path is refused with 409.</param>
public sealed record VolumeCommitRequest(IReadOnlyList<VolumePut>? Puts = null, IReadOnlyList<string>? Deletes = null, bool Force = false);

/// <summary>The version a change produced.</summary>
/// <param name="Version">The new version id.</param>
/// <param name="FileCount">Files in it.</param>
public sealed record VolumeCommitResult(string Version, int FileCount);

/// <summary>A copy with <c>cp</c> semantics.</summary>
/// <param name="Sources">Files or folders to copy.</param>
/// <param name="Destination">A new name, or a folder to copy into (a trailing '/', an existing folder, or several sources).</param>
/// <param name="Recursive">Copy folders (required for them).</param>
public sealed record VolumeCopyRequest(IReadOnlyList<string> Sources, string Destination, bool Recursive = false);
