using System.Buffers.Binary;
using System.Text.Json;

namespace Modal.Container;

/// <summary>Kinds of frame on the container wire.</summary>
public static class FrameTypes
{
    /// <summary>Runner → container: run one input.</summary>
    public const string Input = "input";

    /// <summary>Runner → container: the caller cancelled this input.</summary>
    public const string Cancel = "cancel";

    /// <summary>Container → runner: what an input produced.</summary>
    public const string Output = "output";

    /// <summary>Container → runner: a line the function printed while running an input.</summary>
    public const string Log = "log";
}

/// <summary>A frame from the runner to the function server in its container.</summary>
public sealed record RunnerFrame
{
    /// <summary><see cref="FrameTypes.Input"/> or <see cref="FrameTypes.Cancel"/>.</summary>
    public required string Type { get; init; }

    /// <summary>Correlates outputs and logs with this input on the connection.</summary>
    public required long Id { get; init; }

    /// <summary>The function's name (inputs only).</summary>
    public string? Function { get; init; }

    /// <summary>Arguments as a JSON object keyed by parameter name (inputs only).</summary>
    public string? ArgumentsJson { get; init; }

    /// <summary>The platform's id of the call this input belongs to (inputs only), for <see cref="FunctionContext"/>.</summary>
    public string? FunctionCallId { get; init; }

    /// <summary>An input frame.</summary>
    /// <param name="id">Correlation id on the connection.</param>
    /// <param name="function">The function's name.</param>
    /// <param name="argumentsJson">Arguments keyed by parameter name.</param>
    /// <param name="functionCallId">The platform's call id.</param>
    public static RunnerFrame Input(long id, string function, string argumentsJson, string functionCallId) =>
        new() { Type = FrameTypes.Input, Id = id, Function = function, ArgumentsJson = argumentsJson, FunctionCallId = functionCallId };

    /// <summary>A cancel frame for the input with <paramref name="id"/>.</summary>
    /// <param name="id">The input's correlation id.</param>
    public static RunnerFrame Cancel(long id) => new() { Type = FrameTypes.Cancel, Id = id };
}

/// <summary>A frame from the function server back to the runner: an input's output, or a line it printed.</summary>
public sealed record ContainerFrame
{
    /// <summary><see cref="FrameTypes.Output"/> or <see cref="FrameTypes.Log"/>.</summary>
    public required string Type { get; init; }

    /// <summary>The input's correlation id.</summary>
    public required long Id { get; init; }

    /// <summary>Whether the function returned (outputs).</summary>
    public bool Succeeded { get; init; }

    /// <summary>The result as JSON, when it returned.</summary>
    public string? ResultJson { get; init; }

    /// <summary>Full name of the exception type, when it threw.</summary>
    public string? ExceptionType { get; init; }

    /// <summary>The exception's message.</summary>
    public string? Message { get; init; }

    /// <summary>The exception's stack trace.</summary>
    public string? StackTrace { get; init; }

    /// <summary><c>stdout</c> or <c>stderr</c> (logs).</summary>
    public string? Stream { get; init; }

    /// <summary>One printed line, without its line break (logs).</summary>
    public string? Text { get; init; }

    /// <summary>A successful output.</summary>
    /// <param name="id">The input's correlation id.</param>
    /// <param name="resultJson">The result as JSON.</param>
    public static ContainerFrame Returned(long id, string? resultJson) =>
        new() { Type = FrameTypes.Output, Id = id, Succeeded = true, ResultJson = resultJson };

    /// <summary>A failed output.</summary>
    /// <param name="id">The input's correlation id.</param>
    /// <param name="exceptionType">Full name of the exception type.</param>
    /// <param name="message">The exception's message.</param>
    /// <param name="stackTrace">The exception's stack trace.</param>
    public static ContainerFrame Threw(long id, string? exceptionType, string message, string? stackTrace) =>
        new() { Type = FrameTypes.Output, Id = id, ExceptionType = exceptionType, Message = message, StackTrace = stackTrace };

    /// <summary>A printed line.</summary>
    /// <param name="id">The input's correlation id.</param>
    /// <param name="stream"><c>stdout</c> or <c>stderr</c>.</param>
    /// <param name="text">The line.</param>
    public static ContainerFrame Log(long id, string stream, string text) => new() { Type = FrameTypes.Log, Id = id, Stream = stream, Text = text };
}

/// <summary>
/// The wire between a runner and the function server in its container: a Unix domain socket carrying frames of a
/// 4-byte big-endian length and a UTF-8 JSON body. Shared by both sides, so they cannot drift apart.
/// </summary>
public static class ContainerProtocol
{
    /// <summary>Environment variable with the socket path the function server listens on.</summary>
    public const string SocketVariable = "MODAL_FUNCTION_SOCKET";

    /// <summary>Environment variable naming the class whose instance this container serves (class containers only).</summary>
    public const string ClassVariable = "MODAL_CLASS";

    /// <summary>Largest frame accepted: a blob-backed payload (up to 256 MiB) travels in one frame, JSON-escaped.</summary>
    public const int MaxFrameBytes = 640 * 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A frame's JSON body.</summary>
    internal static byte[] Serialize<T>(T message) => JsonSerializer.SerializeToUtf8Bytes(message, Json);

    /// <summary>Writes one frame. Callers serialise writes on a connection.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="stream">The connection.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public static async Task WriteAsync<T>(Stream stream, T message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var body = JsonSerializer.SerializeToUtf8Bytes(message, Json);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one frame; null when the other side closed the connection.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="stream">The connection.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="InvalidDataException">The frame is larger than <see cref="MaxFrameBytes"/> or not valid JSON.</exception>
    public static async Task<T?> ReadAsync<T>(Stream stream, CancellationToken cancellationToken) where T : class
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = new byte[4];
        if (!await ReadExactlyOrEndAsync(stream, header, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is < 0 or > MaxFrameBytes)
        {
            throw new InvalidDataException($"A container frame of {length} bytes is outside 0..{MaxFrameBytes}.");
        }
        var body = new byte[length];
        if (!await ReadExactlyOrEndAsync(stream, body, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidDataException("The connection closed in the middle of a frame.");
        }
        try
        {
            return JsonSerializer.Deserialize<T>(body, Json) ?? throw new InvalidDataException("A container frame was JSON null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException("A container frame is not valid JSON.", e);
        }
    }

    private static async Task<bool> ReadExactlyOrEndAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return filled == 0 ? false : throw new InvalidDataException("The connection closed in the middle of a frame.");
            }
            filled += read;
        }
        return true;
    }
}
