namespace Modal.GpuRunner.Calls;

/// <summary>What one attempt runs: the input's arguments, the call it belongs to and how long it may take.</summary>
/// <param name="CallId">The call (or map) the input belongs to, as the function sees it.</param>
/// <param name="Describe">Names the input in the runner's log (a call id, or a map's id and index).</param>
/// <param name="Attempt">Which attempt this is (1 for the first run).</param>
/// <param name="ArgumentsJson">The arguments, when they travel inline.</param>
/// <param name="ArgumentsBlob">The blob holding arguments too large to travel inline.</param>
/// <param name="Timeout">How long the attempt may run.</param>
public sealed record AttemptInput(string CallId, string Describe, int Attempt, string ArgumentsJson, string? ArgumentsBlob, TimeSpan Timeout);
