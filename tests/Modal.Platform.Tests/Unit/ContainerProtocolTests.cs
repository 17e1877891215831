using System.Buffers.Binary;
using Modal.Container;

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
}
