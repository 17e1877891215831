using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;

namespace Modal.Storage.Blobs;

/// <summary>
/// Which workspaces may read which blobs. Blobs are content-addressed and stored once however many workspaces upload
/// them, so knowing a hash must not be enough to read one: a workspace holds a reference to a blob once it uploaded its
/// content itself (<c>PUT /v1/blobs/{sha256}</c> with the bytes, even when they were stored already), or Storage wrote
/// it for the workspace (a Volume's manifest). Reads, Volume commits and <c>/v1/blobs/missing</c> answer per workspace.
/// A reference is an empty object <c>refs/{workspace}/{sha256}</c> in the blob bucket, durable with the blobs and, like
/// them, never deleted.
/// </summary>
public sealed class BlobReferences(IMinioClient s3, IOptions<StorageOptions> options)
{
    private readonly string _bucket = options.Value.BlobBucket;

    // References are never deleted, so one seen once holds for good: a 10,000-file Volume commit asks S3 once per file.
    private readonly ConcurrentDictionary<(Guid Workspace, string Hash), byte> _known = new();
    private const int MaxKnown = 1_000_000;

    public async Task<bool> HoldsAsync(Guid workspaceId, string hash, CancellationToken cancellationToken)
    {
        if (_known.ContainsKey((workspaceId, hash)))
        {
            return true;
        }
        try
        {
            await s3.StatObjectAsync(new StatObjectArgs().WithBucket(_bucket).WithObject(Key(workspaceId, hash)), cancellationToken);
        }
        catch (ObjectNotFoundException)
        {
            return false;
        }
        Remember(workspaceId, hash);
        return true;
    }

    /// <summary>The hashes of <paramref name="hashes"/> the workspace holds no reference to.</summary>
    public async Task<IReadOnlyList<string>> MissingAsync(Guid workspaceId, IEnumerable<string> hashes, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(32);
        var checks = hashes.Distinct(StringComparer.Ordinal).Select(async hash =>
        {
            if (_known.ContainsKey((workspaceId, hash)))
            {
                return null;
            }
            await gate.WaitAsync(cancellationToken);
            try
            {
                return await HoldsAsync(workspaceId, hash, cancellationToken) ? null : hash;
            }
            finally
            {
                gate.Release();
            }
        });
        return (await Task.WhenAll(checks)).OfType<string>().ToList();
    }

    /// <summary>Records that the workspace may read <paramref name="hash"/>; call only once the blob is stored.</summary>
    public async Task AddAsync(Guid workspaceId, string hash, CancellationToken cancellationToken)
    {
        if (_known.ContainsKey((workspaceId, hash)))
        {
            return;
        }
        using var empty = new MemoryStream([], writable: false);
        await s3.PutObjectAsync(new PutObjectArgs().WithBucket(_bucket).WithObject(Key(workspaceId, hash))
            .WithStreamData(empty).WithObjectSize(0).WithContentType("application/octet-stream"), cancellationToken);
        Remember(workspaceId, hash);
    }

    private void Remember(Guid workspaceId, string hash)
    {
        if (_known.Count >= MaxKnown)
        {
            _known.Clear();
        }
        _known[(workspaceId, hash)] = 0;
    }

    private static string Key(Guid workspaceId, string hash) => $"refs/{workspaceId:N}/{hash}";
}
