using System.Text;

namespace Modal.Container;

/// <summary>
/// Stands in for <see cref="Console.Out"/> / <see cref="Console.Error"/> inside a container: text printed while an
/// input runs goes to that input's log (so each call has its own logs, even with several inputs at once); text
/// printed outside any input goes to the process's own stream, which the runner keeps as the container's log.
/// </summary>
internal sealed class InputLogWriter(TextWriter processStream, string stream) : TextWriter
{
    public override Encoding Encoding => processStream.Encoding;

    public override void Write(char value) => Write(value.ToString());

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(string? value)
    {
        if (FunctionContext.Current is { } input)
        {
            input.Append(stream, value);
        }
        else
        {
            processStream.Write(value);
        }
    }

    public override void WriteLine(string? value) => Write(value + new string(CoreNewLine));

    public override void Flush() => processStream.Flush();
}
