using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Modal.Storage.Volumes;

/// <summary>One file of a Volume version: its content (a blob), size and modification time.</summary>
public sealed record VolumeFile(string Sha256, long Size, DateTimeOffset Modified);

/// <summary>
/// One version of a Volume: canonical path → file. Stored as a content-addressed blob (its hash is the version id),
/// so versions are immutable and identical files of any Volume or bundle are stored once. Folders are implied by the
/// paths of their files (an empty folder does not survive a commit).
/// </summary>
public sealed class VolumeManifest(IReadOnlyDictionary<string, VolumeFile> files)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static VolumeManifest Empty { get; } = new(FrozenDictionary<string, VolumeFile>.Empty);

    public IReadOnlyDictionary<string, VolumeFile> Files { get; } = files;

    /// <summary>Every folder that holds a file, at any depth.</summary>
    public IReadOnlySet<string> Folders => _folders ??= Files.Keys.SelectMany(VolumePaths.Ancestors).ToHashSet(StringComparer.Ordinal);

    private HashSet<string>? _folders;

    public bool IsFolder(string path) => path.Length == 0 || Folders.Contains(path);

    public byte[] Serialize() =>
        JsonSerializer.SerializeToUtf8Bytes(new Document(1, new SortedDictionary<string, VolumeFile>(Files.ToDictionary(), StringComparer.Ordinal)), Json);

    public static VolumeManifest Parse(ReadOnlySpan<byte> json)
    {
        var document = JsonSerializer.Deserialize<Document>(json, Json) ?? throw new InvalidDataException("A Volume manifest is empty.");
        return new VolumeManifest(document.Files.ToFrozenDictionary(StringComparer.Ordinal));
    }

    private sealed record Document(int Format, [property: JsonPropertyName("files")] IDictionary<string, VolumeFile> Files);
}
