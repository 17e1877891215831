using System.Security.Cryptography;
using Modal.Storage.Blobs;

namespace Modal.Platform.Tests.Unit;

public sealed class ReadAheadStreamTests
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task ReadAsync_SourceGivingSmallReads_DeliversEveryByteInOrderWhateverTheReadSizes()
    {
        var content = RandomNumberGenerator.GetBytes(5 * MiB + 12_345);
        await using var ahead = new ReadAheadStream(new TricklingStream(content, maxRead: 7_000), window: 2 * MiB);

        // Minio reads whole parts; other readers read little: both sizes, and a read that spans several chunks.
        var received = new MemoryStream();
        var sizes = new[] { 1, 1_000, 3 * MiB, 65_536, 16 * MiB };
        var buffer = new byte[16 * MiB];
        for (var i = 0; ; i++)
        {
            var read = await ahead.ReadAsync(buffer.AsMemory(0, sizes[i % sizes.Length]));
            if (read == 0)
            {
                break;
            }
            received.Write(buffer, 0, read);
        }

        Assert.Equal(content, received.ToArray());
    }

    [Fact]
    public async Task ReadAsync_SourceFailsPartWay_TheErrorReachesTheReader()
    {
        var source = new TricklingStream(RandomNumberGenerator.GetBytes(3 * MiB), maxRead: 64 * 1024) { FailAfter = 2 * MiB };
        await using var ahead = new ReadAheadStream(source, window: 4 * MiB);

        var error = await Assert.ThrowsAsync<IOException>(async () =>
        {
            var buffer = new byte[MiB];
            while (await ahead.ReadAsync(buffer) > 0)
            {
            }
        });

        Assert.Equal("The client went away.", error.Message);
    }

    [Fact]
    public async Task ReadAhead_NothingConsumed_ReadsNoMoreThanTheWindowAndTheChunkInHand()
    {
        var source = new TricklingStream(new byte[64 * MiB], maxRead: 64 * 1024);
        await using var ahead = new ReadAheadStream(source, window: 4 * MiB);

        // It must get to the window by itself (nothing reads it) and then stop there.
        while (source.Position < 4 * MiB)
        {
            await Task.Delay(10);
        }
        await Task.Delay(200);

        Assert.InRange(source.Position, 4 * MiB, 5 * MiB);
    }

    [Fact]
    public async Task DisposeAsync_BeforeTheEnd_StopsReadingTheSource()
    {
        var source = new TricklingStream(new byte[64 * MiB], maxRead: 64 * 1024);
        var ahead = new ReadAheadStream(source, window: 2 * MiB);
        Assert.Equal(MiB, await ahead.ReadAsync(new byte[MiB]));

        await ahead.DisposeAsync();
        var readWhenDisposed = source.Position;
        await Task.Delay(100);

        Assert.Equal(readWhenDisposed, source.Position);
        Assert.True(source.Position < 64 * MiB);
    }

    /// <summary>A source that gives at most <c>maxRead</c> bytes a read, as a socket does, and can fail part way.</summary>
    private sealed class TricklingStream(byte[] content, int maxRead) : MemoryStream(content, writable: false)
    {
        public long FailAfter { get; init; } = long.MaxValue;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            if (Position >= FailAfter)
            {
                throw new IOException("The client went away.");
            }
            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, maxRead)], cancellationToken);
        }
    }
}
