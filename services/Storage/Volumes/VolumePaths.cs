using Modal.Storage.Objects;

namespace Modal.Storage.Volumes;

/// <summary>
/// What a path inside a Volume may be (pure rules, unit-tested). Paths are relative to the Volume's root; a leading
/// '/' names the root, as Modal's <c>/data/x</c> inside a mount and <c>x</c> from outside mean the same file.
/// </summary>
public static class VolumePaths
{
    /// <summary>
    /// The canonical form of <paramref name="path"/>: segments joined by '/', no leading or trailing '/', "" for the
    /// root. Any ".." is refused rather than resolved, so no spelling of a path can leave the Volume (or its mount).
    /// </summary>
    /// <exception cref="InvalidStorageRequestException">The path has a ".." segment or a NUL character.</exception>
    public static string Normalize(string? path)
    {
        path ??= "";
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new InvalidStorageRequestException("Invalid path", "A Volume path may not contain NUL characters.");
        }
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToList();
        if (segments.Contains(".."))
        {
            throw new InvalidStorageRequestException("Invalid path",
                $"'{path}' leaves the Volume: '..' is not allowed in a Volume path.");
        }
        return string.Join('/', segments);
    }

    /// <summary>The last segment of a canonical path.</summary>
    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    /// <summary>Joins a canonical folder (or the root, "") and a relative canonical path.</summary>
    public static string Join(string folder, string relative) =>
        folder.Length == 0 ? relative : relative.Length == 0 ? folder : $"{folder}/{relative}";

    /// <summary>Every folder above <paramref name="path"/>, nearest last ("a", "a/b" for "a/b/c").</summary>
    public static IEnumerable<string> Ancestors(string path)
    {
        for (var i = path.IndexOf('/'); i >= 0; i = path.IndexOf('/', i + 1))
        {
            yield return path[..i];
        }
    }

    /// <summary>Whether <paramref name="path"/> lies under folder <paramref name="folder"/> ("" holds everything).</summary>
    public static bool IsUnder(string path, string folder) =>
        folder.Length == 0 || (path.Length > folder.Length && path[folder.Length] == '/' && path.StartsWith(folder, StringComparison.Ordinal));
}
