namespace Modal.Platform.Tests.Unit;

public sealed class FunctionContextTests
{
    [Fact]
    public void Append_TextInPieces_SendsWholeLinesPerStreamAndTheRestOnFlush()
    {
        var lines = new List<(string Stream, string Text)>();
        var context = new FunctionContext("fc-1", "f", (stream, text) => lines.Add((stream, text)), CancellationToken.None);

        context.Append("stdout", "hel");
        context.Append("stderr", "oops\r\n");
        context.Append("stdout", "lo\nwor");
        context.Append("stdout", "ld");
        context.FlushLog();

        Assert.Equal([("stderr", "oops"), ("stdout", "hello"), ("stdout", "world")], lines);
    }
}
