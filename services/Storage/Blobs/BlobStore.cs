using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;

namespace Modal.Storage.Blobs;

/// <summary>
/// Content-addressed blobs in S3 (<c>blobs/{sha256}</c> in the blob bucket): app bundle files, bundle manifests and
/// large call payloads. A blob is written only after its content was verified against its name, so a stored blob is
/// always what its hash says; storing one that exists already is a no-op.
/// </summary>
public sealed class BlobStore(IMinioClient s3, IOptions<StorageOptions> options)
{
    private readonly string _bucket = options.Value.BlobBucket;

    public static bool IsValidHash(string hash) =>
        hash.Length == 64 && hash.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    public async Task<bool> ExistsAsync(string hash, CancellationToken cancellationToken)
    {
        try
        {
            await s3.StatObjectAsync(new StatObjectArgs().WithBucket(_bucket).WithObject(Key(hash)), cancellationToken);
            return true;
        }
        catch (ObjectNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The hashes of <paramref name="hashes"/> that are not stored yet (what a deploy still has to upload).</summary>
    public async Task<IReadOnlyList<string>> MissingAsync(IEnumerable<string> hashes, CancellationToken cancellationToken)
    {
        // A few requests at a time: the S3 endpoint answers small requests in milliseconds, not microseconds.
        using var gate = new SemaphoreSlim(16);
        var checks = hashes.Distinct(StringComparer.Ordinal).Select(async hash =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                return await ExistsAsync(hash, cancellationToken) ? null : hash;
            }
            finally
            {
                gate.Release();
            }
        });
        return (await Task.WhenAll(checks)).OfType<string>().ToList();
    }

    /// <summary>
    /// Stores <paramref name="content"/> as blob <paramref name="hash"/>. The content is spooled to a temporary file while
    /// it is hashed, and uploaded only if the hash matches. Returns false (storing nothing) on a mismatch.
    /// </summary>
    public async Task<bool> PutAsync(string hash, Stream content, CancellationToken cancellationToken)
    {
        var spool = Path.Combine(Path.GetTempPath(), $"modal-blob-{Guid.NewGuid():N}");
        try
        {
            await using (var file = new FileStream(spool, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    sha.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
                if (!string.Equals(Convert.ToHexStringLower(sha.GetHashAndReset()), hash, StringComparison.Ordinal))
                {
                    return false;
                }
                if (await ExistsAsync(hash, cancellationToken))
                {
                    return true;
                }
                file.Position = 0;
                await s3.PutObjectAsync(new PutObjectArgs().WithBucket(_bucket).WithObject(Key(hash))
                    .WithStreamData(file).WithObjectSize(file.Length).WithContentType("application/octet-stream"), cancellationToken);
            }
            return true;
        }
        finally
        {
            File.Delete(spool);
        }
    }

    /// <summary>Copies blob <paramref name="hash"/> to <paramref name="destination"/>; false when it does not exist.</summary>
    public async Task<bool> CopyToAsync(string hash, Stream destination, CancellationToken cancellationToken)
    {
        try
        {
            await s3.GetObjectAsync(new GetObjectArgs().WithBucket(_bucket).WithObject(Key(hash))
                .WithCallbackStream((stream, token) => stream.CopyToAsync(destination, token)), cancellationToken);
            return true;
        }
        catch (ObjectNotFoundException)
        {
            return false;
        }
    }

    public async Task<long?> SizeAsync(string hash, CancellationToken cancellationToken)
    {
        try
        {
            return (await s3.StatObjectAsync(new StatObjectArgs().WithBucket(_bucket).WithObject(Key(hash)), cancellationToken)).Size;
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }

    private static string Key(string hash) => $"blobs/{hash}";
}
