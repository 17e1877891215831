using System.Buffers.Binary;
using Modal.Container.Protocol;

namespace Modal.Platform.Tests.Unit;

public sealed class ContainerProtocolTests
{
    [Fact]
    public async Task WriteThenRead_Frames_RoundTripInOrder()
    {
        using var stream = new MemoryStream();
        await ContainerProtocol.WriteAsync(stream, RunnerFrame.Input(1, "f", """{"i":1}""", "fc-1"), CancellationToken.None);
        await ContainerProtocol.WriteAsync(stream, RunnerFrame.Cancel(2), CancellationToken.None);
        stream.Position = 0;

        var first = await ContainerProtocol.ReadAsync<RunnerFrame>(stream, CancellationToken.None);
        var second = await ContainerProtocol.ReadAsync<RunnerFrame>(stream, CancellationToken.None);
        var end = await ContainerProtocol.ReadAsync<RunnerFrame>(stream, CancellationToken.None);

        Assert.Equal(RunnerFrame.Input(1, "f", """{"i":1}""", "fc-1"), first);
        Assert.Equal(RunnerFrame.Cancel(2), second);
        Assert.Null(end);
    }

    [Fact]
    public async Task Read_OversizedLength_ThrowsInvalidData()
    {
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, ContainerProtocol.MaxFrameBytes + 1);
        using var stream = new MemoryStream(header);

        await Assert.ThrowsAsync<InvalidDataException>(() => ContainerProtocol.ReadAsync<RunnerFrame>(stream, CancellationToken.None));
    }

    [Fact]
    public async Task Read_TruncatedFrame_ThrowsInvalidData()
    {
        using var whole = new MemoryStream();
        await ContainerProtocol.WriteAsync(whole, RunnerFrame.Input(1, "f", "{}", "fc-1"), CancellationToken.None);
        using var truncated = new MemoryStream(whole.ToArray()[..^3]);

        await Assert.ThrowsAsync<InvalidDataException>(() => ContainerProtocol.ReadAsync<RunnerFrame>(truncated, CancellationToken.None));
    }

    [Fact]
    public async Task FrameWriter_ManyConcurrentWriters_EveryFrameArrivesWholeAndInEachWritersOrder()
    {
        const int Writers = 8;
        const int FramesEach = 500;
        using var stream = new MemoryStream();
        var writer = new FrameWriter<RunnerFrame>(stream);

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < FramesEach; i++)
            {
                var frame = RunnerFrame.Input(w * FramesEach + i, $"writer-{w}", $$"""{"i":{{i}}}""", "fc-1");
                if (i % 2 == 0)
                {
                    await writer.WriteAsync(frame);
                }
                else
                {
                    writer.Post(frame);
                }
            }
        })));
        await writer.DisposeAsync();

        stream.Position = 0;
        var read = new List<RunnerFrame>();
        while (await ContainerProtocol.ReadAsync<RunnerFrame>(stream, CancellationToken.None) is { } frame)
        {
            read.Add(frame);
        }
        Assert.Equal(Writers * FramesEach, read.Count);
        foreach (var fromOneWriter in read.GroupBy(frame => frame.Function))
        {
            var ids = fromOneWriter.Select(frame => frame.Id).ToList();
            Assert.Equal(FramesEach, ids.Count);
            Assert.Equal(ids.Order(), ids);
        }
    }

    [Fact]
    public async Task FrameWriter_BrokenConnection_FailsTheWriteAndRefusesLaterOnesAfterDispose()
    {
        var broken = new MemoryStream();
        broken.Dispose();
        var writer = new FrameWriter<RunnerFrame>(broken);

        await Assert.ThrowsAsync<IOException>(() => writer.WriteAsync(RunnerFrame.Cancel(1)));
        await writer.DisposeAsync();
        await Assert.ThrowsAsync<IOException>(() => writer.WriteAsync(RunnerFrame.Cancel(2)));
    }
}
