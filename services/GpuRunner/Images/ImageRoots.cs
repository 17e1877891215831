using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Modal.GpuRunner.Bundles;

namespace Modal.GpuRunner.Images;

/// <summary>
/// Image root file systems on this node: each root tar (a blob of its workspace, fetched through <see cref="BundleCache"/>,
/// so a workspace gets only its own) unpacked once into <c>images/roots/&lt;blob&gt;</c> by the build user in its user
/// namespace (files owned by its subordinate ids, never by the node's root; setuid bits mean nothing under bubblewrap's
/// no-new-privileges). Containers of every function with that image share it, read-only.
/// </summary>
public sealed partial class ImageRoots(BundleCache blobs, ImageSandbox sandbox, IOptions<GpuRunnerOptions> options, ILogger<ImageRoots> logger)
{
    private const string CompleteMarker = ".modal-image-complete";

    private readonly string _root = Path.Combine(Path.GetFullPath(options.Value.CacheDirectory), "images");
    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _unpacking = new(StringComparer.Ordinal);

    /// <summary>Where builds work (one folder per build).</summary>
    public string BuildFolder => Path.Combine(_root, "build");

    /// <summary>The unpacked root of <paramref name="rootBlob"/>, for a container of <paramref name="workspaceId"/>.</summary>
    public async Task<string> GetAsync(Guid workspaceId, string rootBlob, CancellationToken cancellationToken)
    {
        // Asked every time: the blob may be on the node for another workspace only.
        var tar = await blobs.EnsureBlobAsync(workspaceId, rootBlob, cancellationToken);
        var unpacking = _unpacking.GetOrAdd(rootBlob, blob => new Lazy<Task<string>>(() => UnpackAsync(tar, blob)));
        try
        {
            return await unpacking.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (unpacking.Value.IsFaulted)
        {
            _unpacking.TryRemove(new KeyValuePair<string, Lazy<Task<string>>>(rootBlob, unpacking));
            throw;
        }
    }

    /// <summary>Keeps a root a build just made (so this node's first container of the image need not unpack it).</summary>
    public void Adopt(string rootBlob, string builtRoot)
    {
        var target = Path.Combine(_root, "roots", rootBlob);
        if (Directory.Exists(target))
        {
            return;
        }
        File.WriteAllText(Path.Combine(builtRoot, CompleteMarker), rootBlob);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            Directory.Move(builtRoot, target);
        }
        catch (IOException)
        {
            // Another build of this node kept the same root first.
        }
    }

    /// <summary>
    /// Makes the folders a container's binds land on (its bundle, runtime and socket folders, Volumes, the dotnet folder)
    /// in a root, which the container sees read-only: bubblewrap cannot make a mount point on a read-only root.
    /// </summary>
    public static void EnsureMountPoints(string root, IEnumerable<string> folders, IEnumerable<string> files)
    {
        foreach (var folder in folders)
        {
            var path = Path.Combine(root, folder.TrimStart('/'));
            if (!Path.Exists(path))
            {
                Directory.CreateDirectory(path);
                ImageSandbox.SetMode(path, 0x1ED);
            }
        }
        foreach (var file in files)
        {
            var path = Path.Combine(root, file.TrimStart('/'));
            if (!Path.Exists(path) && Directory.Exists(Path.GetDirectoryName(path)))
            {
                File.WriteAllBytes(path, []);
            }
        }
    }

    private async Task<string> UnpackAsync(string tar, string rootBlob)
    {
        var target = Path.Combine(_root, "roots", rootBlob);
        if (File.Exists(Path.Combine(target, CompleteMarker)))
        {
            return target;
        }
        var work = Path.Combine(BuildFolder, $"unpack-{Guid.NewGuid():N}");
        var staging = Path.Combine(work, "root");
        var temp = Path.Combine(work, "tmp");
        Directory.CreateDirectory(work);
        ImageSandbox.SetMode(work, 0x1ED);
        sandbox.GiveToBuildRoot(staging);
        sandbox.GiveToBuildUser(temp);
        var lines = new List<string>();
        // Device nodes cannot be made in a user namespace, and bubblewrap gives every container a /dev of its own.
        var exit = await sandbox.RunAsRootAsync(ImageSandbox.Unpack(staging, tar), temp, null,
            line => { lock (lines) { lines.Add(line); } }, CancellationToken.None);
        if (exit != 0)
        {
            Directory.Delete(work, recursive: true);
            throw new InvalidDataException($"Unpacking image root {rootBlob[..12]} failed ({exit}): {string.Join('\n', lines.TakeLast(10))}");
        }
        await File.WriteAllTextAsync(Path.Combine(staging, CompleteMarker), rootBlob);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        try
        {
            Directory.Move(staging, target);
        }
        catch (IOException) when (File.Exists(Path.Combine(target, CompleteMarker)))
        {
            // Unpacked by another runner process of this node first.
        }
        Directory.Delete(work, recursive: true);
        LogUnpacked(logger, rootBlob);
        return target;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Image root {RootBlob} unpacked")]
    private static partial void LogUnpacked(ILogger logger, string rootBlob);
}
