using Modal.Storage.Objects;

namespace Modal.Storage.Volumes;

/// <summary>
/// A change being made to the latest version of a Volume: puts, removals and copies applied in order to a working copy
/// of its manifest. Pure (no I/O), so a commit that lost a race re-applies the same edit to the newer version.
/// </summary>
public sealed class VolumeEdit
{
    private readonly Dictionary<string, VolumeFile> _files;
    private readonly HashSet<string> _folders;

    public VolumeEdit(VolumeManifest latest)
    {
        _files = new Dictionary<string, VolumeFile>(latest.Files, StringComparer.Ordinal);
        _folders = new HashSet<string>(latest.Folders, StringComparer.Ordinal);
    }

    public VolumeManifest ToManifest() => new(_files);

    public bool Exists(string path) => _files.ContainsKey(path) || IsFolder(path);

    private bool IsFolder(string path) => path.Length == 0 || _folders.Contains(path);

    /// <summary>
    /// Writes <paramref name="file"/> at <paramref name="path"/>. Last writer wins: a file or folder in the way (a file
    /// where a folder of the path is, or a folder where the file goes) is replaced.
    /// </summary>
    public void Put(string path, VolumeFile file, bool force)
    {
        if (path.Length == 0)
        {
            throw new InvalidStorageRequestException("Invalid path", "A file needs a name: the Volume's root is a folder.");
        }
        if (!force && Exists(path))
        {
            throw new VolumeFileExistsException($"'{path}' exists in the Volume; upload with force to replace it.");
        }
        if (IsFolder(path))
        {
            RemoveUnder(path);
        }
        foreach (var folder in VolumePaths.Ancestors(path))
        {
            _files.Remove(folder);
            _folders.Add(folder);
        }
        _files[path] = file;
    }

    /// <summary>Removes a file, or a folder with <paramref name="recursive"/>; <paramref name="missingOk"/> for a diff's deletes.</summary>
    public void Remove(string path, bool recursive, bool missingOk = false)
    {
        if (_files.Remove(path))
        {
            RebuildFolders();
            return;
        }
        if (!IsFolder(path))
        {
            if (missingOk)
            {
                return;
            }
            throw new VolumeFileNotFoundException($"'{path}' does not exist in the Volume.");
        }
        if (!recursive)
        {
            throw new InvalidStorageRequestException("Is a folder", $"'{path}' is a folder; remove it with recursive.");
        }
        RemoveUnder(path);
    }

    /// <summary>
    /// Copies as <c>cp</c> does: into <paramref name="destination"/> when it is a folder (existing, the root, written with
    /// a trailing '/', or when there are several sources), else to that name. Folders need <paramref name="recursive"/>.
    /// Content is shared, never duplicated: a copy is a new manifest entry naming the same blob.
    /// </summary>
    public void Copy(IReadOnlyList<string> sources, string destination, bool destinationIsFolder, bool recursive)
    {
        if (sources.Count == 0)
        {
            throw new InvalidStorageRequestException("Nothing to copy", "Name at least one source path.");
        }
        var intoFolder = destinationIsFolder || sources.Count > 1 || IsFolder(destination);
        if (intoFolder && _files.ContainsKey(destination))
        {
            throw new InvalidStorageRequestException("Not a folder", $"'{destination}' is a file; several sources need a folder to copy into.");
        }
        var copies = new List<(string Path, VolumeFile File)>();
        foreach (var source in sources)
        {
            if (_files.TryGetValue(source, out var file))
            {
                copies.Add((intoFolder ? VolumePaths.Join(destination, VolumePaths.Name(source)) : destination, file));
            }
            else if (IsFolder(source) && source.Length > 0)
            {
                if (!recursive)
                {
                    throw new InvalidStorageRequestException("Is a folder", $"'{source}' is a folder; copy it with recursive.");
                }
                var target = intoFolder && IsFolder(destination) ? VolumePaths.Join(destination, VolumePaths.Name(source)) : destination;
                if (target == source || VolumePaths.IsUnder(target, source))
                {
                    throw new InvalidStorageRequestException("Invalid copy", $"'{source}' cannot be copied into itself.");
                }
                copies.AddRange(_files.Where(f => VolumePaths.IsUnder(f.Key, source))
                    .Select(f => (VolumePaths.Join(target, f.Key[(source.Length + 1)..]), f.Value)));
            }
            else
            {
                throw new VolumeFileNotFoundException($"'{source}' does not exist in the Volume.");
            }
        }
        foreach (var (path, file) in copies)
        {
            Put(path, file, force: true);
        }
    }

    private void RemoveUnder(string folder)
    {
        foreach (var path in _files.Keys.Where(p => VolumePaths.IsUnder(p, folder)).ToList())
        {
            _files.Remove(path);
        }
        RebuildFolders();
    }

    private void RebuildFolders()
    {
        _folders.Clear();
        _folders.UnionWith(_files.Keys.SelectMany(VolumePaths.Ancestors));
    }
}
