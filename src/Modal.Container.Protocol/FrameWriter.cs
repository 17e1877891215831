using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace Modal.Container.Protocol;

/// <summary>
/// Writes frames to a connection from any number of callers: frames queued while a write is under way go out
/// together in the next one, so a busy connection (a map's inputs, their outputs) costs one system call per batch
/// of frames rather than per frame. There is no writer thread: the caller that finds the connection idle queues the
/// write as a work item of its own thread, which runs once that caller's current work is done, so frames queued by
/// other threads meanwhile (inputs handed slots together, outputs finishing together) go out in the same write, and the
/// reader at the other end wakes once for them all. Each caller learns when its frame was written, or that the
/// connection failed.
/// </summary>
/// <typeparam name="T">The frame type.</typeparam>
public sealed class FrameWriter<T> : IAsyncDisposable
{
    /// <summary>Most bytes gathered into one write.</summary>
    private const int MaxWriteBytes = 1024 * 1024;

    private readonly Stream _stream;
    private readonly ConcurrentQueue<(T Frame, TaskCompletionSource? Written)> _queue = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly List<TaskCompletionSource> _waiting = [];

    // 1 while a caller is writing for everyone; guards _buffer, _waiting and _broken.
    private int _draining;
    private Task _drain = Task.CompletedTask;
    private volatile Exception? _broken;
    private volatile bool _closed;

    /// <summary>Writes to <paramref name="stream"/>.</summary>
    /// <param name="stream">The connection (written only by this writer).</param>
    public FrameWriter(Stream stream) => _stream = stream;

    /// <summary>Queues a frame and completes once it is written; fails with <see cref="IOException"/> if the connection broke.</summary>
    /// <param name="frame">The frame.</param>
    public Task WriteAsync(T frame)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return Enqueue(frame, written) ? written.Task : Task.FromException(new IOException("The connection is closed."));
    }

    /// <summary>
    /// Queues a frame without waiting for it to be written; false when the writer is closed or its connection broke
    /// (a frame lost to a connection that breaks later is the reader's to notice: the other side is gone).
    /// </summary>
    /// <param name="frame">The frame.</param>
    public bool Post(T frame) => _broken is null && Enqueue(frame, null);

    private bool Enqueue(T frame, TaskCompletionSource? written)
    {
        if (_closed)
        {
            return false;
        }
        _queue.Enqueue((frame, written));
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static writer => writer._drain = writer.DrainAsync(), this, preferLocal: true);
        }
        return true;
    }

    /// <summary>Writes what is queued, batch after batch, until the queue is empty; one caller at a time.</summary>
    private async Task DrainAsync()
    {
        while (true)
        {
            while (_buffer.WrittenCount < MaxWriteBytes && _queue.TryDequeue(out var item))
            {
                Append(_buffer, item.Frame);
                if (item.Written is not null)
                {
                    _waiting.Add(item.Written);
                }
            }
            if (_buffer.WrittenCount == 0)
            {
                Volatile.Write(ref _draining, 0);
                // A frame queued between the last look and the release would wait for the next caller: look once more.
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
                {
                    return;
                }
                continue;
            }
            try
            {
                if (_broken is null)
                {
                    await _stream.WriteAsync(_buffer.WrittenMemory).ConfigureAwait(false);
                    await _stream.FlushAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
            {
                _broken = e;
            }
            foreach (var written in _waiting)
            {
                if (_broken is null)
                {
                    written.TrySetResult();
                }
                else
                {
                    written.TrySetException(new IOException($"The connection broke: {_broken.Message}", _broken));
                }
            }
            _waiting.Clear();
            _buffer.ResetWrittenCount();
        }
    }

    private static void Append(ArrayBufferWriter<byte> buffer, T frame)
    {
        var body = ContainerProtocol.Serialize(frame);
        BinaryPrimitives.WriteInt32BigEndian(buffer.GetSpan(4), body.Length);
        buffer.Advance(4);
        buffer.Write(body);
    }

    /// <summary>Writes what is queued, then stops taking frames.</summary>
    public async ValueTask DisposeAsync()
    {
        _closed = true;
        // The drain under way (if any) empties the queue; a caller may have started another just before: wait for that too.
        while (true)
        {
            await Volatile.Read(ref _drain).ConfigureAwait(false);
            if (Volatile.Read(ref _draining) == 0 && _queue.IsEmpty)
            {
                return;
            }
            await Task.Delay(1).ConfigureAwait(false);
        }
    }
}
