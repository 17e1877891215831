using System.Text.Json;

namespace Modal.Container.Protocol;

/// <summary>One file of an app bundle, stored in Storage as the blob named by its SHA-256.</summary>
/// <param name="Path">Path inside the bundle, with '/' separators.</param>
/// <param name="Sha256">SHA-256 of the content, lowercase hex.</param>
/// <param name="Size">Size in bytes.</param>
public sealed record BundleFile(string Path, string Sha256, long Size);

/// <summary>What a bundle is: its files and the assembly to start. Stored as a blob; its SHA-256 is the bundle id.</summary>
/// <param name="EntryAssembly">The app's entry assembly, relative to the bundle root.</param>
/// <param name="Files">Every file, sorted by path.</param>
public sealed record BundleManifest(string EntryAssembly, IReadOnlyList<BundleFile> Files)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The manifest's canonical bytes (what is stored and hashed).</summary>
    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads a manifest from its stored bytes.</summary>
    /// <param name="json">The bytes.</param>
    public static BundleManifest Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<BundleManifest>(json, Json) ?? throw new InvalidDataException("A bundle manifest is empty.");

    /// <summary>
    /// Whether <paramref name="path"/> stays inside the bundle (relative, no '..' segment): a runner materialises only
    /// such paths.
    /// </summary>
    /// <param name="path">A manifest path.</param>
    public static bool IsSafePath(string path) =>
        !string.IsNullOrEmpty(path) && !path.StartsWith('/') && !path.Contains('\\', StringComparison.Ordinal)
        && path.Split('/').All(segment => segment.Length > 0 && segment != ".." && segment != ".");
}
