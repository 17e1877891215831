namespace Modal.Contracts.Containers;

/// <summary>
/// Command (Scheduler → one runner, on <see cref="RunnerQueues.ContainersOf"/>): start a container of a function on the
/// GPUs the Scheduler chose. The runner answers with <see cref="ContainerStarted"/> or <see cref="ContainerStartFailed"/>.
/// </summary>
public sealed record StartContainer
{
    /// <summary>Chosen by the Scheduler, so its placement and the runner's container share one id.</summary>
    public required string ContainerId { get; init; }
    public required string RunnerId { get; init; }

    /// <summary>The function (for a class: any of its methods; the container serves them all).</summary>
    public required Guid FunctionId { get; init; }

    /// <summary>Indices of the runner's GPUs the container holds exclusively (empty: none).</summary>
    public IReadOnlyList<int> GpuIndices { get; init; } = [];

    public required DateTimeOffset RequestedAt { get; init; }
}

/// <summary>Command (Scheduler → one runner): stop a container; it finishes the inputs it runs, then its [Exit] hooks run.</summary>
public sealed record StopContainer
{
    public required string ContainerId { get; init; }
    public required string RunnerId { get; init; }

    /// <summary>Why, as a name (e.g. "ScaledDown").</summary>
    public required string Reason { get; init; }
}

/// <summary>A runner could not start a container the Scheduler asked for; what it held is free again.</summary>
public sealed record ContainerStartFailed
{
    public required string ContainerId { get; init; }
    public required string RunnerId { get; init; }
    public required Guid FunctionId { get; init; }

    /// <summary>A name: "GpusTaken" (another container holds one of the GPUs), "UnknownFunction", "AppStopped", "StartFailed".</summary>
    public required string Reason { get; init; }
    public required string Message { get; init; }
    public required DateTimeOffset FailedAt { get; init; }
}

/// <summary>Where a runner receives its container commands.</summary>
public static class RunnerQueues
{
    /// <summary>
    /// The runner's own queue of container commands. Temporary (gone with the runner): a command for a runner that
    /// died is worthless, the Scheduler places the container again.
    /// </summary>
    public static string ContainersOf(string runnerId) => $"runner-{runnerId}-containers";

    /// <summary>
    /// The address a sender uses: the queue's exchange, declared as the runner's temporary endpoint declares it
    /// (not durable, auto-deleted), and not the queue itself, whose arguments (expiry) only the runner sets.
    /// </summary>
    public static Uri ContainersAddressOf(string runnerId) => new($"exchange:{ContainersOf(runnerId)}?durable=false&autodelete=true");
}
