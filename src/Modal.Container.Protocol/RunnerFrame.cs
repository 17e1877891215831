namespace Modal.Container.Protocol;

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

    /// <summary>The platform's id of the call this input belongs to (inputs only), for the function server's <c>FunctionContext</c>.</summary>
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
