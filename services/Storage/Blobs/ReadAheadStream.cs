using System.IO.Pipelines;

namespace Modal.Storage.Blobs;

/// <summary>
/// Reads a stream ahead of its consumer, up to a window of bytes, on a task of its own.
/// The Minio SDK uploads a multipart object one part at a time: it reads a whole part from its stream, then sends it and
/// reads nothing until S3 has answered. Reading an upload's request body only when Minio asks would take the client's
/// transfer to Storage and Storage's transfer to S3 in turns; with this stream in between they overlap, as a raw upload
/// from a local file overlaps reading the disk (the page cache) with sending.
/// An error reading that stream (the client went away) reaches the consumer's next read.
/// </summary>
internal sealed class ReadAheadStream : Stream
{
    private readonly Pipe _pipe;
    private readonly Stream _buffered;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _filling;

    public ReadAheadStream(Stream inner, long window)
    {
        _pipe = new Pipe(new PipeOptions(pauseWriterThreshold: window, resumeWriterThreshold: window / 2, useSynchronizationContext: false));
        _buffered = _pipe.Reader.AsStream();
        _filling = FillAsync(inner);
    }

    private async Task FillAsync(Stream inner)
    {
        // Off the caller's thread: the caller goes on to start the upload while the first bytes come in.
        await Task.Yield();
        try
        {
            await inner.CopyToAsync(_pipe.Writer, _stop.Token).ConfigureAwait(false);
            await _pipe.Writer.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await _pipe.Writer.CompleteAsync(e).ConfigureAwait(false);
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

    public override int Read(byte[] buffer, int offset, int count) => _buffered.Read(buffer, offset, count);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _buffered.ReadAsync(buffer, offset, count, cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _buffered.ReadAsync(buffer, cancellationToken);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        // The request body must not be read after the request ends: stop and wait for the filling task.
        await _stop.CancelAsync().ConfigureAwait(false);
        await _pipe.Reader.CompleteAsync().ConfigureAwait(false);
        await _filling.ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            if (!_filling.IsCompleted)
            {
                _stop.Cancel();
                _pipe.Reader.Complete();
                _filling.GetAwaiter().GetResult();
            }
            _stop.Dispose();
        }
        base.Dispose(disposing);
    }
}
