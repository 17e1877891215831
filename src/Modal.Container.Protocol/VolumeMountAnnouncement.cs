using System.Text.Json;

namespace Modal.Container.Protocol;

/// <summary>Where a Volume is mounted in a container: the path the function asked for and the folder that holds it.</summary>
/// <param name="MountPath">The path the function mounts the Volume at (e.g. <c>/models</c>).</param>
/// <param name="Volume">The Volume's name.</param>
/// <param name="Directory">The local folder holding the Volume's files (the mount path itself in an isolated container).</param>
/// <param name="State">Where the folder's sync state is kept; null: next to the folder.</param>
public sealed record VolumeMount(string MountPath, string Volume, string Directory, string? State = null);

/// <summary>
/// How a runner tells a container where its Volumes are: a JSON object in <see cref="Variable"/>, mount path →
/// <c>{"volume": name, "directory": folder, "state": file or null}</c>.
/// </summary>
public static class VolumeMountAnnouncement
{
    /// <summary>The environment variable that carries the announcement.</summary>
    public const string Variable = "MODAL_VOLUME_MOUNTS";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The announcement for <paramref name="mounts"/> (what a runner puts in <see cref="Variable"/>).</summary>
    /// <param name="mounts">The mounts.</param>
    public static string Describe(IEnumerable<VolumeMount> mounts) =>
        JsonSerializer.Serialize(mounts.ToDictionary(m => m.MountPath, m => new MountTarget(m.Volume, m.Directory, m.State), StringComparer.Ordinal), Json);

    /// <summary>The mounts an announcement names (none for an empty one).</summary>
    /// <param name="announcement">The value of <see cref="Variable"/>.</param>
    public static IReadOnlyList<VolumeMount> Parse(string? announcement) =>
        announcement is { Length: > 0 }
            ? (JsonSerializer.Deserialize<Dictionary<string, MountTarget>>(announcement, Json) ?? [])
                .Select(m => new VolumeMount(m.Key, m.Value.Volume, m.Value.Directory, m.Value.State)).ToList()
            : [];

    private sealed record MountTarget(string Volume, string Directory, string? State = null);
}
