using System.Text.Json;
using System.Text.Json.Serialization;
using Modal.Api.Contracts.Calls;

namespace Modal.Api.Contracts.Maps;

/// <summary>A map just started: send its inputs to <c>/v1/maps/{mapId}/inputs</c> and read outputs from <c>/outputs</c>.</summary>
/// <param name="MapId">The map's id (<c>fc-…</c>).</param>
/// <param name="MaxInputsPerRequest">Most inputs one page of inputs may carry.</param>
/// <param name="MaxOutstandingInputs">Inputs without output beyond which the server refuses more (429) until outputs catch up.</param>
public sealed record MapCreated(string MapId, int MaxInputsPerRequest, long MaxOutstandingInputs);

/// <summary>A page of a map's inputs.</summary>
/// <param name="Inputs">The inputs, each with its position in the map.</param>
public sealed record MapInputsRequest(IReadOnlyList<MapInputItem> Inputs);

/// <summary>One input of a map (its optional fields are properties, as <see cref="Calls.CreateCallRequest"/>'s are).</summary>
/// <param name="Index">Position in the map (0-based, unique).</param>
public sealed record MapInputItem(long Index)
{
    /// <summary>Arguments keyed by parameter name; <c>default</c> (not sent) when <see cref="ArgumentsBlob"/> is set.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public JsonElement Arguments { get; init; }

    /// <summary>SHA-256 of an uploaded blob holding the arguments, for payloads over <see cref="ApiLimits.MaxInlinePayloadBytes"/>.</summary>
    public string? ArgumentsBlob { get; init; }
}

/// <summary>What a page of inputs queued.</summary>
/// <param name="Queued">Inputs queued by this request.</param>
/// <param name="Outstanding">The map's inputs still without output.</param>
public sealed record MapInputsQueued(int Queued, long Outstanding);

/// <summary>The map's total number of inputs: once that many outputs are recorded, it is finished.</summary>
/// <param name="Total">How many inputs were sent in all.</param>
public sealed record CloseMapRequest(long Total);

/// <summary>A map's progress.</summary>
/// <param name="MapId">The map's id.</param>
/// <param name="AppName">The app of its function.</param>
/// <param name="FunctionName">The function.</param>
/// <param name="CreatedAt">When it started.</param>
/// <param name="InputsQueued">Inputs queued so far.</param>
/// <param name="Outputs">Inputs with an output (success or final failure).</param>
/// <param name="Failures">Of those, how many failed.</param>
/// <param name="Total">The number of inputs, once all were sent.</param>
/// <param name="Finished">Every input has its output.</param>
/// <param name="Cancelled">The map was cancelled.</param>
public sealed record MapInfo(
    string MapId, string AppName, string FunctionName, DateTimeOffset CreatedAt, long InputsQueued, long Outputs, long Failures, long? Total,
    bool Finished, bool Cancelled);

/// <summary>An app's recent maps.</summary>
/// <param name="Maps">Newest first.</param>
public sealed record AppMaps(IReadOnlyList<MapInfo> Maps);

/// <summary>One output of a map.</summary>
/// <param name="Index">The input's position.</param>
/// <param name="Succeeded">Whether the function returned.</param>
/// <param name="Result">The result, when it returned (and fit inline).</param>
/// <param name="ResultBlob">Blob holding a result over <see cref="ApiLimits.MaxInlinePayloadBytes"/>.</param>
/// <param name="Error">The error of its last attempt, when it failed.</param>
public sealed record MapOutputItem(long Index, bool Succeeded, JsonElement? Result, string? ResultBlob, CallErrorInfo? Error);

/// <summary>A page of a map's outputs.</summary>
/// <param name="MapId">The map.</param>
/// <param name="Outputs">Outputs in the order they were recorded.</param>
/// <param name="Next">The cursor to read on from (asking from it releases the outputs before it).</param>
/// <param name="OutputsRecorded">Outputs recorded so far in all.</param>
/// <param name="Total">The number of inputs, once known.</param>
/// <param name="Finished">Every input has its output.</param>
public sealed record MapOutputs(string MapId, IReadOnlyList<MapOutputItem> Outputs, string Next, long OutputsRecorded, long? Total, bool Finished);
