namespace Modal.Contracts.Maps;

/// <summary>
/// Command on a function's durable queue (<c>fn-{FunctionId}</c>), beside <see cref="Calls.RunFunction"/>: run a slice
/// of a map's inputs. Many inputs per message is what lets a map outrun the broker's per-message cost; the Api sizes
/// slices so a map still spreads over the function's containers. A runner that dies before acknowledging it leaves
/// the whole slice to be delivered again; the Api keeps the first output of each input and drops repeats.
/// </summary>
public sealed record RunMapInputs
{
    /// <summary>The map's call id (<c>fc-…</c>), under which its outputs are collected.</summary>
    public required string MapId { get; init; }

    public required Guid FunctionId { get; init; }

    public required Guid WorkspaceId { get; init; }

    public required string AppName { get; init; }

    public required string FunctionName { get; init; }

    /// <summary>The app bundle the inputs must run with.</summary>
    public string? BundleId { get; init; }

    /// <summary>Limit per attempt of each input.</summary>
    public required TimeSpan Timeout { get; init; }

    public required DateTimeOffset QueuedAt { get; init; }

    /// <summary>The inputs, each with its position in the map.</summary>
    public required IReadOnlyList<MapInput> Inputs { get; init; }
}

/// <summary>One input of a map.</summary>
public sealed record MapInput
{
    /// <summary>Position in the map (0-based): outputs are matched, ordered and de-duplicated by it.</summary>
    public required long Index { get; init; }

    /// <summary>Arguments as a JSON object keyed by parameter name (empty when <see cref="ArgumentsBlob"/> is set).</summary>
    public required string ArgumentsJson { get; init; }

    /// <summary>SHA-256 of a Storage blob holding the arguments' JSON, for payloads over 2 MiB.</summary>
    public string? ArgumentsBlob { get; init; }

    /// <summary>1 for the first attempt; a retry sends the input again, alone, with the next number.</summary>
    public required int Attempt { get; init; }
}

/// <summary>Event: outputs of a map's inputs, batched by the runner that produced them.</summary>
public sealed record MapOutputsProduced
{
    public required string MapId { get; init; }

    public required string RunnerId { get; init; }

    public required IReadOnlyList<MapOutput> Outputs { get; init; }
}

/// <summary>The final outcome of one map input: its result, or the error of its last attempt.</summary>
public sealed record MapOutput
{
    public required long Index { get; init; }

    public required int Attempt { get; init; }

    public required bool Succeeded { get; init; }

    /// <summary>The result as JSON (success, when it fits inline).</summary>
    public string? ResultJson { get; init; }

    /// <summary>SHA-256 of a Storage blob holding a result over 2 MiB.</summary>
    public string? ResultBlob { get; init; }

    /// <summary>Remote exception type (<c>Modal.FunctionTimeoutException</c> for a timeout).</summary>
    public string? ExceptionType { get; init; }

    public string? Message { get; init; }

    public string? StackTrace { get; init; }
}
