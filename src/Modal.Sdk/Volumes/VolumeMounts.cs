using System.Text.Json;

namespace Modal.Volumes;

/// <summary>Where a Volume is mounted in this container: the path the function asked for and the folder that holds it.</summary>
/// <param name="MountPath">The path of <see cref="FunctionOptions.Volumes"/> (e.g. <c>/models</c>).</param>
/// <param name="Volume">The Volume's name.</param>
/// <param name="Directory">The local folder holding the Volume's files (the mount path itself in an isolated container).</param>
/// <param name="State">Where the folder's sync state is kept (see <see cref="VolumeDirectory"/>); null: next to the folder.</param>
public sealed record VolumeMount(string MountPath, string Volume, string Directory, string? State = null);

/// <summary>
/// The Volumes mounted into this container, as the runner announces them in <see cref="Variable"/>. In an isolated
/// container (the runner's bubblewrap backend) a Volume is at its literal mount path and <see cref="LocalPath"/> returns
/// paths unchanged; a runner without isolation keeps it in a folder of its own, which <see cref="LocalPath"/> (or
/// <see cref="Volume.LocalPath"/>) resolves, so code that uses it runs on both.
/// </summary>
public static class VolumeMounts
{
    /// <summary>JSON object: mount path → <c>{"volume": name, "directory": folder, "state": file or null}</c>.</summary>
    public const string Variable = "MODAL_VOLUME_MOUNTS";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Every mount of this container (none outside a container).</summary>
    public static IReadOnlyList<VolumeMount> All =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } json
            ? (JsonSerializer.Deserialize<Dictionary<string, MountTarget>>(json, Json) ?? [])
                .Select(m => new VolumeMount(m.Key, m.Value.Volume, m.Value.Directory, m.Value.State)).ToList()
            : [];

    /// <summary>The announcement for <paramref name="mounts"/> (what a runner puts in <see cref="Variable"/>).</summary>
    /// <param name="mounts">The mounts.</param>
    public static string Describe(IEnumerable<VolumeMount> mounts) =>
        JsonSerializer.Serialize(mounts.ToDictionary(m => m.MountPath, m => new MountTarget(m.Volume, m.Directory, m.State), StringComparer.Ordinal), Json);

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

    private sealed record MountTarget(string Volume, string Directory, string? State = null);
}
