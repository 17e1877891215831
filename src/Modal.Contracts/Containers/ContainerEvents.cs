namespace Modal.Contracts.Containers;

/// <summary>A runner started a container for a function and it is serving inputs.</summary>
public sealed record ContainerStarted
{
    public required string ContainerId { get; init; }
    public required string RunnerId { get; init; }
    public required Guid FunctionId { get; init; }
    public required string AppName { get; init; }
    public required string FunctionName { get; init; }
    public required string BundleId { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
}

/// <summary>A container stopped. <see cref="Reason"/> is a name: "TimedOut", "Crashed", "Replaced" or "RunnerStopping".</summary>
public sealed record ContainerStopped
{
    public required string ContainerId { get; init; }
    public required string RunnerId { get; init; }
    public required Guid FunctionId { get; init; }
    public required string Reason { get; init; }
    public required DateTimeOffset StoppedAt { get; init; }
}
