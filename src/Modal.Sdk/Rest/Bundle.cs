using System.Security.Cryptography;
using Modal.Container.Protocol;

namespace Modal.Rest;

/// <summary>A bundle built from a folder (a <c>dotnet publish</c> output): its manifest and where each file lives locally.</summary>
public sealed class Bundle
{
    private Bundle(BundleManifest manifest, byte[] manifestJson, IReadOnlyDictionary<string, string> localFiles)
    {
        Manifest = manifest;
        ManifestJson = manifestJson;
        Id = Convert.ToHexStringLower(SHA256.HashData(manifestJson));
        LocalFiles = localFiles;
    }

    /// <summary>The manifest.</summary>
    public BundleManifest Manifest { get; }

    /// <summary>The manifest's stored bytes.</summary>
    public byte[] ManifestJson { get; }

    /// <summary>The bundle id: SHA-256 of <see cref="ManifestJson"/>.</summary>
    public string Id { get; }

    /// <summary>A local path for each file hash (to upload what Storage lacks).</summary>
    public IReadOnlyDictionary<string, string> LocalFiles { get; }

    /// <summary>Hashes every file under <paramref name="directory"/>.</summary>
    /// <param name="directory">The publish output.</param>
    /// <param name="entryAssembly">The app's entry assembly, relative to <paramref name="directory"/>.</param>
    /// <param name="cancellationToken">Cancels hashing.</param>
    /// <exception cref="FileNotFoundException">The entry assembly is not in the folder.</exception>
    public static async Task<Bundle> FromDirectoryAsync(string directory, string entryAssembly, CancellationToken cancellationToken = default)
    {
        var root = Path.GetFullPath(directory);
        if (!File.Exists(Path.Combine(root, entryAssembly)))
        {
            throw new FileNotFoundException($"The bundle folder '{root}' has no entry assembly '{entryAssembly}'.", entryAssembly);
        }

        var files = new List<BundleFile>();
        var local = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            await using var stream = File.OpenRead(path);
            var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
            files.Add(new BundleFile(Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/'), hash, stream.Length));
            local.TryAdd(hash, path);
        }
        var manifest = new BundleManifest(entryAssembly.Replace(Path.DirectorySeparatorChar, '/'), files);
        return new Bundle(manifest, manifest.ToJsonBytes(), local);
    }
}
