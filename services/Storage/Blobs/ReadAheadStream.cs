using System.Buffers;
using System.Threading.Channels;

namespace Modal.Storage.Blobs;

/// <summary>
/// Reads a stream ahead of its consumer, up to a window of bytes, on a task of its own.
/// The Minio SDK uploads a multipart object one part at a time: it reads a whole part from its stream, then sends it and
/// reads nothing until S3 has answered. Reading an upload's request body only when Minio asks would take the client's
/// transfer to Storage and Storage's transfer to S3 in turns; with this stream in between they overlap, as a raw upload
/// from a local file overlaps reading the disk (the page cache) with sending.
/// An error reading that stream (the client went away) reaches the consumer's next read.
/// </summary>
/// <remarks>
/// The bytes wait in chunks of 1 MiB rented from the shared array pool, handed over whole. A <c>Pipe</c> did this first
/// and cost most of Storage's CPU in a large upload: it took 4 KiB segments, more than the pool keeps, so a 1 GiB upload
/// allocated a quarter of a million of them (collections all along), and it woke the reader for every read of the
/// request body.
/// </remarks>
internal sealed class ReadAheadStream : Stream
{
    private const int ChunkBytes = 1024 * 1024;

    private readonly Channel<Chunk> _chunks;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _filling;
    private Chunk? _current;
    private int _consumed;
    private bool _disposed;

    public ReadAheadStream(Stream inner, long window)
    {
        _chunks = Channel.CreateBounded<Chunk>(new BoundedChannelOptions((int)Math.Max(1, window / ChunkBytes))
        {
            SingleReader = true,
            SingleWriter = true,
        });
        _filling = FillAsync(inner, _stop.Token);
    }

    private sealed record Chunk(byte[] Bytes, int Length);

    private async Task FillAsync(Stream inner, CancellationToken stop)
    {
        // Off the caller's thread: the caller goes on to start the upload while the first bytes come in.
        await Task.Yield();
        try
        {
            while (true)
            {
                var bytes = ArrayPool<byte>.Shared.Rent(ChunkBytes);
                var length = 0;
                int read;
                do
                {
                    read = await inner.ReadAsync(bytes.AsMemory(length, ChunkBytes - length), stop).ConfigureAwait(false);
                    length += read;
                }
                while (read > 0 && length < ChunkBytes);
                if (length == 0)
                {
                    ArrayPool<byte>.Shared.Return(bytes);
                    break;
                }
                if (!_chunks.Writer.TryWrite(new Chunk(bytes, length)))
                {
                    await _chunks.Writer.WriteAsync(new Chunk(bytes, length), stop).ConfigureAwait(false);
                }
                if (read == 0)
                {
                    break;
                }
            }
            _chunks.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _chunks.Writer.TryComplete(e);
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Fills as much of <paramref name="buffer"/> as the chunks already read allow, waiting only when there is none.</summary>
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var copied = 0;
        while (copied < buffer.Length)
        {
            if (_current is null || _consumed == _current.Length)
            {
                ReturnCurrent();
                if (!_chunks.Reader.TryRead(out var next))
                {
                    if (copied > 0 || !await _chunks.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        break;
                    }
                    continue;
                }
                (_current, _consumed) = (next, 0);
            }
            var count = Math.Min(buffer.Length - copied, _current.Length - _consumed);
            _current.Bytes.AsMemory(_consumed, count).CopyTo(buffer[copied..]);
            (_consumed, copied) = (_consumed + count, copied + count);
        }
        return copied;
    }

    private void ReturnCurrent()
    {
        if (_current is not null)
        {
            ArrayPool<byte>.Shared.Return(_current.Bytes);
            _current = null;
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            // The request body must not be read after the request ends: stop and wait for the filling task.
            await _stop.CancelAsync().ConfigureAwait(false);
            await _filling.ConfigureAwait(false);
        }
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _stop.Cancel();
            _filling.GetAwaiter().GetResult();
            ReturnCurrent();
            while (_chunks.Reader.TryRead(out var chunk))
            {
                ArrayPool<byte>.Shared.Return(chunk.Bytes);
            }
            _stop.Dispose();
        }
        base.Dispose(disposing);
    }
}
