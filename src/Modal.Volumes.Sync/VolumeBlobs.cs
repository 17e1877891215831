using System.Security.Cryptography;

namespace Modal.Volumes;

/// <summary>A local file to store as a blob: its hash and size, and where it is.</summary>
internal sealed record LocalBlob(string Sha256, long Size, string LocalPath);

/// <summary>Hashes local files and uploads their content to <c>/v1/blobs</c>, several at a time, each streamed from disk.</summary>
internal static class VolumeBlobs
{
    // Small files are sent without asking first which are stored (one request instead of two; a stored blob is
    // simply rewritten with the same bytes); large ones are asked about, so unchanged weights are never re-sent.
    private const long AskFirstBytes = 1024 * 1024;
    private const int Parallelism = 16;

    public static async Task<LocalBlob> HashAsync(string localPath, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(localPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false));
        return new LocalBlob(hash, file.Length, localPath);
    }

    /// <summary>Hashes the files (as many at once as there are cores), in the order given.</summary>
    public static async Task<IReadOnlyList<LocalBlob>> HashAllAsync(IReadOnlyList<string> localPaths, CancellationToken cancellationToken)
    {
        var hashed = new LocalBlob[localPaths.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, localPaths.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken },
            async (index, token) => hashed[index] = await HashAsync(localPaths[index], token).ConfigureAwait(false)).ConfigureAwait(false);
        return hashed;
    }

    /// <summary>Makes sure every blob is stored; returns how many were sent.</summary>
    public static async Task<int> UploadAsync(VolumeHttp storage, IEnumerable<LocalBlob> blobs, CancellationToken cancellationToken)
    {
        var unique = blobs.DistinctBy(b => b.Sha256, StringComparer.Ordinal).ToList();
        var large = unique.Where(b => b.Size >= AskFirstBytes).ToList();
        var missingLarge = new HashSet<string>(StringComparer.Ordinal);
        if (large.Count > 0)
        {
            missingLarge.UnionWith(await storage.MissingBlobsAsync(large.Select(b => b.Sha256), cancellationToken).ConfigureAwait(false));
        }
        var toSend = unique.Where(b => b.Size < AskFirstBytes || missingLarge.Contains(b.Sha256)).ToList();
        await Parallel.ForEachAsync(toSend, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
            async (blob, token) =>
            {
                await using var file = new FileStream(blob.LocalPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
                using var content = new StreamContent(file, 1 << 20);
                content.Headers.ContentLength = blob.Size;
                await storage.PutBlobAsync(blob.Sha256, content, token).ConfigureAwait(false);
            }).ConfigureAwait(false);
        return toSend.Count;
    }

    /// <summary>Writes blob <paramref name="sha256"/> to <paramref name="target"/> (through a temporary file, so a reader never sees half of it).</summary>
    public static async Task DownloadAsync(VolumeHttp storage, string sha256, string target, CancellationToken cancellationToken)
    {
        var partial = $"{target}.{Guid.NewGuid():N}.partial";
        using (var response = await storage.GetBlobAsync(sha256, cancellationToken).ConfigureAwait(false))
        {
            await using var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using var file = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
            await source.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        }
        File.Move(partial, target, overwrite: true);
    }
}
