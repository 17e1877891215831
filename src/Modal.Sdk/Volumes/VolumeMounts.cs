using Modal.Container.Protocol;

namespace Modal.Volumes;

/// <summary>
/// The Volumes mounted into this container, as the runner announces them in <see cref="VolumeMountAnnouncement.Variable"/>.
/// In an isolated container (the runner's bubblewrap backend) a Volume is at its literal mount path and
/// <see cref="LocalPath"/> returns paths unchanged; a runner without isolation keeps it in a folder of its own, which <see cref="LocalPath"/> (or
/// <see cref="Volume.LocalPath"/>) resolves, so code that uses it runs on both.
/// </summary>
public static class VolumeMounts
{
    /// <summary>Every mount of this container (none outside a container).</summary>
    public static IReadOnlyList<VolumeMount> All =>
        VolumeMountAnnouncement.Parse(Environment.GetEnvironmentVariable(VolumeMountAnnouncement.Variable));

    /// <summary>
    /// The local path of <paramref name="path"/> (e.g. <c>/models/weights.bin</c>) in this container: inside a mount it
    /// is under the mount's folder; any other path is returned as it is.
    /// </summary>
    /// <param name="path">An absolute path.</param>
    public static string LocalPath(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        foreach (var mount in All.OrderByDescending(m => m.MountPath.Length))
        {
            var root = mount.MountPath.TrimEnd('/');
            if (mount.Directory == mount.MountPath)
            {
                continue; // Bound at its own path: nothing to resolve (a shorter mount must not claim it either).
            }
            if (path == root || path.StartsWith(root + "/", StringComparison.Ordinal))
            {
                return Path.Combine(mount.Directory, path[root.Length..].TrimStart('/'));
            }
        }
        return path;
    }
}
