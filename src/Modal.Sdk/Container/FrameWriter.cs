using System.Buffers;
using System.Buffers.Binary;
using System.Threading.Channels;

namespace Modal.Container;

/// <summary>
/// Writes frames to a connection from any number of callers: frames queued while a write is under way go out
/// together in the next one, so a busy connection (a map's inputs, their outputs) costs one system call per batch
/// of frames rather than per frame. Each caller learns when its frame was written, or that the connection failed.
/// </summary>
/// <typeparam name="T">The frame type.</typeparam>
public sealed class FrameWriter<T> : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly Channel<(T Frame, TaskCompletionSource? Written)> _queue =
        Channel.CreateUnbounded<(T, TaskCompletionSource?)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writing;

    /// <summary>Starts writing to <paramref name="stream"/>.</summary>
    /// <param name="stream">The connection (written only by this writer).</param>
    public FrameWriter(Stream stream)
    {
        _stream = stream;
        _writing = WriteLoopAsync();
    }

    /// <summary>Queues a frame and completes once it is written; fails with <see cref="IOException"/> if the connection broke.</summary>
    /// <param name="frame">The frame.</param>
    public Task WriteAsync(T frame)
    {
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _queue.Writer.TryWrite((frame, written)) ? written.Task : Task.FromException(new IOException("The connection is closed."));
    }

    /// <summary>Queues a frame without waiting for it (a lost frame on a broken connection is the reader's to notice).</summary>
    /// <param name="frame">The frame.</param>
    public void Post(T frame) => _queue.Writer.TryWrite((frame, null));

    private async Task WriteLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        var waiting = new List<TaskCompletionSource>();
        Exception? broken = null;
        while (await _queue.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (buffer.WrittenCount < 1024 * 1024 && _queue.Reader.TryRead(out var item))
            {
                Append(buffer, item.Frame);
                if (item.Written is not null)
                {
                    waiting.Add(item.Written);
                }
            }
            try
            {
                if (broken is null)
                {
                    await _stream.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
                    await _stream.FlushAsync().ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or System.Net.Sockets.SocketException)
            {
                broken = e;
            }
            foreach (var written in waiting)
            {
                if (broken is null)
                {
                    written.TrySetResult();
                }
                else
                {
                    written.TrySetException(new IOException($"The connection broke: {broken.Message}", broken));
                }
            }
            waiting.Clear();
            buffer.ResetWrittenCount();
        }
    }

    private static void Append(ArrayBufferWriter<byte> buffer, T frame)
    {
        var body = ContainerProtocol.Serialize(frame);
        BinaryPrimitives.WriteInt32BigEndian(buffer.GetSpan(4), body.Length);
        buffer.Advance(4);
        buffer.Write(body);
    }

    /// <summary>Writes what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writing.ConfigureAwait(false);
    }
}
