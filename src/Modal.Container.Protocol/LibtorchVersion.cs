namespace Modal.Container.Protocol;

/// <summary>
/// The version of a libtorch from the files beside its <c>lib</c> folder: <c>build-version</c> of a libtorch archive
/// (<c>libtorch/build-version</c>), or <c>version.py</c> of a PyTorch install (<c>torch/version.py</c>, whose
/// <c>lib</c> holds the same libraries).
/// </summary>
public static class LibtorchVersion
{
    /// <summary>The version (<c>2.10.0+cu128</c>); null when <paramref name="libFolder"/> is null or says nothing.</summary>
    /// <param name="libFolder">The folder holding <c>libtorch_cpu.so</c>.</param>
    public static string? Read(string? libFolder)
    {
        if (libFolder is null)
        {
            return null;
        }
        var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(libFolder)));
        if (parent is null)
        {
            return null;
        }
        var buildVersion = Path.Combine(parent, "build-version");
        if (File.Exists(buildVersion))
        {
            return File.ReadAllText(buildVersion).Trim() is { Length: > 0 } version ? version : null;
        }
        var versionPy = Path.Combine(parent, "version.py");
        if (File.Exists(versionPy))
        {
            foreach (var line in File.ReadLines(versionPy))
            {
                // __version__ = '2.10.0+cu128'
                if (line.StartsWith("__version__", StringComparison.Ordinal) && line.Split('=', 2) is [_, var value])
                {
                    return value.Trim().Trim('\'', '"');
                }
            }
        }
        return null;
    }
}
