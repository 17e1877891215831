using System.Text.Json;
using System.Text.Json.Serialization;

namespace Modal.Api.Contracts.Calls;

/// <summary>
/// Body of a call: the arguments as a JSON object keyed by parameter name, inline (up to
/// <see cref="ApiLimits.MaxInlinePayloadBytes"/>), or, for larger payloads, the SHA-256 of a blob holding that JSON,
/// uploaded first through <c>PUT /v1/blobs/{sha256}</c>. Both are optional, so they are properties, not constructor
/// parameters (a body's constructor parameters without a default are required, and a <see cref="JsonElement"/> cannot
/// have one the OpenAPI document can show).
/// </summary>
public sealed record CreateCallRequest
{
    /// <summary>
    /// A JSON object; <c>default</c> (not sent) when <see cref="ArgumentsBlob"/> is given, and read as <c>{}</c> when
    /// neither is (a JSON <c>null</c> is refused: it is not an object).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public JsonElement Arguments { get; init; }

    /// <summary>SHA-256 of an uploaded blob holding the arguments' JSON object.</summary>
    public string? ArgumentsBlob { get; init; }
}

/// <summary>The id of a new call.</summary>
/// <param name="FunctionCallId">Use it with <c>GET /v1/calls/{id}</c>.</param>
public sealed record CreatedCall(string FunctionCallId);

/// <summary>The error of a failed call: the remote exception's type, message and stack trace.</summary>
/// <param name="Type">Full name of the remote exception type (or one of <see cref="RemoteErrorTypes"/>).</param>
/// <param name="Message">The remote message.</param>
/// <param name="StackTrace">The remote stack trace.</param>
public sealed record CallErrorInfo(string Type, string Message, string? StackTrace);

/// <summary>A call's state and, once finished, its result or error.</summary>
/// <param name="FunctionCallId">The call id.</param>
/// <param name="State">Queued, Running, Succeeded, Failed, TimedOut or Cancelled.</param>
/// <param name="Result">The result as JSON, once Succeeded.</param>
/// <param name="Error">The error, once Failed, TimedOut or Cancelled.</param>
/// <param name="ResultBlob">When the result is over <see cref="ApiLimits.MaxInlinePayloadBytes"/>: the blob holding its JSON (<c>GET /v1/blobs/{sha256}</c>).</param>
/// <param name="Origin">What made the call (<see cref="CallOrigins"/>): <c>api</c>, <c>web</c> or <c>schedule</c>.</param>
public sealed record CallInfo(
    string FunctionCallId, string State, JsonElement? Result, CallErrorInfo? Error, string? ResultBlob = null, string Origin = CallOrigins.Api)
{
    /// <summary>Whether the call has finished one way or another.</summary>
    public bool IsFinished => State is "Succeeded" or "Failed" or "TimedOut" or "Cancelled";
}

/// <summary>A page of a call's log: the lines from the asked position, and where the next page starts.</summary>
/// <param name="FunctionCallId">The call id.</param>
/// <param name="Lines">The lines from the asked position on.</param>
/// <param name="Next">Where the next page starts.</param>
public sealed record CallLogs(string FunctionCallId, IReadOnlyList<CallLogLine> Lines, long Next);

/// <summary>One line a call printed.</summary>
/// <param name="Attempt">The attempt that printed it (1 for the first).</param>
/// <param name="Stream"><c>stdout</c> or <c>stderr</c>.</param>
/// <param name="Text">The line, without its line break.</param>
/// <param name="At">When the runner received it.</param>
public sealed record CallLogLine(int Attempt, string Stream, string Text, DateTimeOffset At);

/// <summary>What made a call (<see cref="CallInfo.Origin"/>).</summary>
public static class CallOrigins
{
    /// <summary>A client of the REST API or the SDK (<c>RemoteAsync</c>, <c>SpawnAsync</c>, a map).</summary>
    public const string Api = "api";

    /// <summary>A request to a web function's URL.</summary>
    public const string Web = "web";

    /// <summary>The function's schedule (<c>Cron</c> or <c>Period</c>).</summary>
    public const string Schedule = "schedule";
}
