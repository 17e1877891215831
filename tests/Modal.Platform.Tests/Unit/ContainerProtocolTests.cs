using System.Buffers.Binary;
using Modal.Container;

namespace Modal.Platform.Tests.Unit;

public sealed class ContainerProtocolTests
{
    [Fact]
    public async Task WriteThenRead_Frames_RoundTripInOrder()
    {
        using var stream = new MemoryStream();
        await ContainerProtocol.WriteAsync(stream, new ContainerInput(1, "f", """{"i":1}"""), CancellationToken.None);
        await ContainerProtocol.WriteAsync(stream, new ContainerInput(2, "g", "{}"), CancellationToken.None);
        stream.Position = 0;

        var first = await ContainerProtocol.ReadAsync<ContainerInput>(stream, CancellationToken.None);
        var second = await ContainerProtocol.ReadAsync<ContainerInput>(stream, CancellationToken.None);
        var end = await ContainerProtocol.ReadAsync<ContainerInput>(stream, CancellationToken.None);

        Assert.Equal(new ContainerInput(1, "f", """{"i":1}"""), first);
        Assert.Equal(new ContainerInput(2, "g", "{}"), second);
        Assert.Null(end);
    }

    [Fact]
    public async Task Read_OversizedLength_ThrowsInvalidData()
    {
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, ContainerProtocol.MaxFrameBytes + 1);
        using var stream = new MemoryStream(header);

        await Assert.ThrowsAsync<InvalidDataException>(() => ContainerProtocol.ReadAsync<ContainerInput>(stream, CancellationToken.None));
    }

    [Fact]
    public async Task Read_TruncatedFrame_ThrowsInvalidData()
    {
        using var whole = new MemoryStream();
        await ContainerProtocol.WriteAsync(whole, new ContainerInput(1, "f", "{}"), CancellationToken.None);
        using var truncated = new MemoryStream(whole.ToArray()[..^3]);

        await Assert.ThrowsAsync<InvalidDataException>(() => ContainerProtocol.ReadAsync<ContainerInput>(truncated, CancellationToken.None));
    }
}
