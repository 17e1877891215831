using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;

namespace Modal.Storage.Blobs;

/// <summary>
/// Content-addressed blobs in S3 (<c>blobs/{sha256}</c> in the blob bucket): app bundle files, bundle manifests and
/// large call payloads. A blob is written only after its content was verified against its name, so a stored blob is
/// always what its hash says; storing one that exists already is a no-op. Volume files and manifests are blobs too.
/// </summary>
public sealed class BlobStore(IMinioClient s3, IOptions<StorageOptions> options)
{
    private readonly string _bucket = options.Value.BlobBucket;
    private readonly bool _presignedReads = options.Value.PresignedReads;

    // Blobs are never deleted, so a blob seen once exists for good: its size is remembered and asked S3 no more. Small
    // requests to the S3 endpoint take milliseconds, and a 10,000-file Volume commit would otherwise stat every file.
    private readonly ConcurrentDictionary<string, long> _known = new(StringComparer.Ordinal);
    private const int MaxKnown = 1_000_000;

    // Below this a blob is uploaded without first asking whether it exists: rewriting identical bytes under their own
    // hash is harmless, and one request is cheaper than two.
    private const long StatBeforePutBytes = 1024 * 1024;

    // Minio 7.0.0 uploads an object larger than a part in parts of 16 MiB (Constants.MinimumPUTPartSize; more above
    // ~156 GiB), one after another, reading each whole part before sending it. Reading a part and a bit ahead of it lets
    // the next part arrive from the client while the current one goes to S3 (ReadAheadStream): 20 MiB of memory per
    // large upload in progress.
    private const long ReadAheadAboveBytes = 16 * 1024 * 1024;
    private const long ReadAheadBytes = 20 * 1024 * 1024;

    public static bool IsValidHash(string hash) =>
        hash.Length == 64 && hash.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    public async Task<bool> ExistsAsync(string hash, CancellationToken cancellationToken) =>
        await SizeAsync(hash, cancellationToken) is not null;

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
    /// Stores <paramref name="content"/> as blob <paramref name="hash"/>; returns false (storing nothing) when the content
    /// does not hash to it. With a known <paramref name="length"/> the content streams straight to S3 and is checked on the
    /// way (<see cref="HashVerifyingStream"/>: a mismatch fails the upload before S3 completes the object); without one it
    /// is spooled to a temporary file while it is hashed, and uploaded only if the hash matches. With
    /// <paramref name="proveContent"/> the content is read and checked even when the blob is stored already: a client
    /// gains a reference to a blob (<see cref="BlobReferences"/>) only by sending its bytes, never by naming its hash.
    /// </summary>
    public async Task<bool> PutAsync(string hash, Stream content, long? length, bool proveContent, CancellationToken cancellationToken)
    {
        if (length is not { } size)
        {
            return await PutSpooledAsync(hash, content, cancellationToken);
        }
        if (_known.ContainsKey(hash) || (size >= StatBeforePutBytes && await ExistsAsync(hash, cancellationToken)))
        {
            // Stored already, and what is stored was verified: the sender's bytes serve only as proof that it has them.
            return !proveContent || await MatchesAsync(content, hash, cancellationToken);
        }
        await using var ahead = size > ReadAheadAboveBytes ? new ReadAheadStream(content, ReadAheadBytes) : null;
        await using var verified = new HashVerifyingStream(ahead ?? content, size, hash);
        try
        {
            await s3.PutObjectAsync(new PutObjectArgs().WithBucket(_bucket).WithObject(Key(hash))
                .WithStreamData(verified).WithObjectSize(size).WithContentType("application/octet-stream"), cancellationToken);
        }
        catch (Exception e) when (e is BlobHashMismatchException || e.InnerException is BlobHashMismatchException)
        {
            // A multipart upload stopped before completion leaves parts but no object; drop the parts.
            await s3.RemoveIncompleteUploadAsync(new RemoveIncompleteUploadArgs().WithBucket(_bucket).WithObject(Key(hash)), CancellationToken.None);
            return false;
        }
        Remember(hash, size);
        return true;
    }

    /// <summary>Whether <paramref name="content"/>, read to its end, hashes to <paramref name="hash"/>.</summary>
    private static async Task<bool> MatchesAsync(Stream content, string hash, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
        {
            sha.AppendData(buffer, 0, read);
        }
        return string.Equals(Convert.ToHexStringLower(sha.GetHashAndReset()), hash, StringComparison.Ordinal);
    }

    private async Task<bool> PutSpooledAsync(string hash, Stream content, CancellationToken cancellationToken)
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
                if (_known.ContainsKey(hash) || (file.Length >= StatBeforePutBytes && await ExistsAsync(hash, cancellationToken)))
                {
                    return true;
                }
                file.Position = 0;
                await s3.PutObjectAsync(new PutObjectArgs().WithBucket(_bucket).WithObject(Key(hash))
                    .WithStreamData(file).WithObjectSize(file.Length).WithContentType("application/octet-stream"), cancellationToken);
                Remember(hash, file.Length);
            }
            return true;
        }
        finally
        {
            File.Delete(spool);
        }
    }

    /// <summary>
    /// A URL from which anyone holding it may GET blob <paramref name="hash"/> from S3 itself for <see cref="PresignedUrlLifetime"/>
    /// (a Range header works on it). Only stored blobs are named, and they were verified when stored.
    /// </summary>
    public async Task<Uri> PresignedGetAsync(string hash) =>
        new(await s3.PresignedGetObjectAsync(new PresignedGetObjectArgs().WithBucket(_bucket).WithObject(Key(hash))
            .WithExpiry((int)PresignedUrlLifetime.TotalSeconds)));

    /// <summary>Whether to answer this read of <paramref name="size"/> bytes with a redirect to S3 (see <see cref="StorageOptions.PresignedReads"/>).</summary>
    public bool ShouldRedirect(HttpRequest request, long size) =>
        _presignedReads && size >= StorageOptions.PresignedReadMinBytes
        && string.Equals(request.Headers[ApiHeaders.AcceptRedirect], ApiHeaders.AcceptRedirectPresigned, StringComparison.Ordinal);

    /// <summary>How long a presigned URL may be used to start a request (a transfer under way continues past it).</summary>
    public static readonly TimeSpan PresignedUrlLifetime = TimeSpan.FromMinutes(5);

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

    /// <summary>
    /// Copies <paramref name="length"/> bytes of blob <paramref name="hash"/> from <paramref name="offset"/> (a range
    /// the caller checked against the size) to <paramref name="destination"/>; false when the blob does not exist.
    /// </summary>
    public async Task<bool> CopyRangeToAsync(string hash, long offset, long length, Stream destination, CancellationToken cancellationToken)
    {
        try
        {
            // Minio 7.0.0 fails ranged reads unless its HEAD's 206 is read as 200 (PartialContentHeadFix).
            await s3.GetObjectAsync(new GetObjectArgs().WithBucket(_bucket).WithObject(Key(hash)).WithOffsetAndLength(offset, length)
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
        if (_known.TryGetValue(hash, out var known))
        {
            return known;
        }
        try
        {
            var size = (await s3.StatObjectAsync(new StatObjectArgs().WithBucket(_bucket).WithObject(Key(hash)), cancellationToken)).Size;
            Remember(hash, size);
            return size;
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The size of each of <paramref name="hashes"/>, null for one not stored.</summary>
    public async Task<IReadOnlyDictionary<string, long?>> SizesAsync(IEnumerable<string> hashes, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(32);
        var sizes = await Task.WhenAll(hashes.Distinct(StringComparer.Ordinal).Select(async hash =>
        {
            if (_known.TryGetValue(hash, out var known))
            {
                return (hash, (long?)known);
            }
            await gate.WaitAsync(cancellationToken);
            try
            {
                return (hash, await SizeAsync(hash, cancellationToken));
            }
            finally
            {
                gate.Release();
            }
        }));
        return sizes.ToDictionary(s => s.hash, s => s.Item2, StringComparer.Ordinal);
    }

    private void Remember(string hash, long size)
    {
        if (_known.Count >= MaxKnown)
        {
            _known.Clear();
        }
        _known[hash] = size;
    }

    private static string Key(string hash) => $"blobs/{hash}";
}
