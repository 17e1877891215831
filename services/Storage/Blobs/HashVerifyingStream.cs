using System.Security.Cryptography;

namespace Modal.Storage.Blobs;

/// <summary>The bytes of an upload did not hash to the blob's name (or were fewer than announced); nothing was stored.</summary>
public sealed class BlobHashMismatchException(string message) : Exception(message);

/// <summary>
/// Reads an upload of a known length while hashing it, and throws <see cref="BlobHashMismatchException"/> from the read
/// that delivers the last byte when the content does not hash to <paramref name="expectedSha256"/>, so whoever streams it on
/// (the S3 client) never gets to complete the object. That is what lets Storage pass an upload straight to S3 instead of
/// spooling it to disk first to check it.
/// </summary>
internal sealed class HashVerifyingStream(Stream inner, long length, string expectedSha256) : Stream
{
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;
    private bool _verified;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, length - _read)]);
        return Account(buffer[..read]);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, length - _read)], cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..read]);
    }

    private int Account(ReadOnlySpan<byte> chunk)
    {
        if (_verified)
        {
            return 0;
        }
        _sha.AppendData(chunk);
        _read += chunk.Length;
        if (_read == length || chunk.Length == 0)
        {
            _verified = true;
            if (_read != length)
            {
                throw new BlobHashMismatchException($"The upload ended after {_read} of {length} bytes.");
            }
            if (!string.Equals(Convert.ToHexStringLower(_sha.GetHashAndReset()), expectedSha256, StringComparison.Ordinal))
            {
                throw new BlobHashMismatchException($"The uploaded bytes do not hash to '{expectedSha256}'.");
            }
        }
        return chunk.Length;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sha.Dispose();
        }
        base.Dispose(disposing);
    }
}
