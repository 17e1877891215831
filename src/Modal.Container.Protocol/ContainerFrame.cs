namespace Modal.Container.Protocol;

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
