namespace Modal.Contracts.Calls;

/// <summary>
/// Command on a function's durable queue (<c>fn-{FunctionId}</c>): run one input. Sent by the Api with publisher
/// confirms; a runner that dies before acknowledging it leaves it to be delivered again (at-least-once execution,
/// exactly-once result recording).
/// </summary>
public sealed record RunFunction
{
    public required string FunctionCallId { get; init; }

    public required Guid FunctionId { get; init; }

    public required Guid WorkspaceId { get; init; }

    public required string AppName { get; init; }

    public required string FunctionName { get; init; }

    /// <summary>The app bundle (manifest blob SHA-256) the input must run with; a redeploy changes it.</summary>
    public string? BundleId { get; init; }

    /// <summary>Arguments as a JSON object keyed by parameter name (inline payloads up to 2 MiB; empty when <see cref="ArgumentsBlob"/> is set).</summary>
    public required string ArgumentsJson { get; init; }

    /// <summary>SHA-256 of a Storage blob holding the arguments' JSON, for payloads over 2 MiB; null when inline.</summary>
    public string? ArgumentsBlob { get; init; }

    /// <summary>1 for the first attempt; a retry sends the command again with the next number.</summary>
    public required int Attempt { get; init; }

    public required TimeSpan Timeout { get; init; }

    public required DateTimeOffset QueuedAt { get; init; }
}
