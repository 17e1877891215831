using System.Text;

namespace Modal;

/// <summary>
/// The input a container is running right now, as Modal's <c>modal.current_function_call_id()</c>: its call id and
/// a token that fires when the caller cancels the call. Null outside a remote input (for example under
/// <c>LocalAsync</c>).
/// </summary>
public sealed class FunctionContext
{
    private static readonly AsyncLocal<FunctionContext?> CurrentInput = new();
    private readonly Action<string, string> _log;
    private readonly Dictionary<string, StringBuilder> _partialLines = new(StringComparer.Ordinal);

    internal FunctionContext(string functionCallId, string functionName, Action<string, string> log, CancellationToken cancellationToken)
    {
        FunctionCallId = functionCallId;
        FunctionName = functionName;
        CancellationToken = cancellationToken;
        _log = log;
    }

    /// <summary>The input being run in this async flow, if any.</summary>
    public static FunctionContext? Current => CurrentInput.Value;

    /// <summary>The call's id (<c>fc-…</c>), the same the caller's <see cref="FunctionCall{TResult}"/> has.</summary>
    public string FunctionCallId { get; }

    /// <summary>The function being run.</summary>
    public string FunctionName { get; }

    /// <summary>Fires when the caller cancels the call; long-running functions should watch it.</summary>
    public CancellationToken CancellationToken { get; }

    internal static void Enter(FunctionContext context) => CurrentInput.Value = context;

    /// <summary>Adds printed text to the input's log; whole lines are sent as they complete.</summary>
    internal void Append(string stream, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }
        lock (_partialLines)
        {
            if (!_partialLines.TryGetValue(stream, out var line))
            {
                _partialLines[stream] = line = new StringBuilder();
            }
            foreach (var c in text)
            {
                if (c == '\n')
                {
                    _log(stream, TrimCarriageReturn(line));
                    line.Clear();
                }
                else
                {
                    line.Append(c);
                }
            }
        }
    }

    /// <summary>Sends what is left of unfinished lines (the input is over).</summary>
    internal void FlushLog()
    {
        lock (_partialLines)
        {
            foreach (var (stream, line) in _partialLines.Where(pair => pair.Value.Length > 0))
            {
                _log(stream, TrimCarriageReturn(line));
                line.Clear();
            }
        }
    }

    private static string TrimCarriageReturn(StringBuilder line) =>
        line.Length > 0 && line[^1] == '\r' ? line.ToString(0, line.Length - 1) : line.ToString();
}
