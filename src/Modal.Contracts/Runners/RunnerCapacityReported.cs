namespace Modal.Contracts.Runners;

/// <summary>
/// A GpuRunner's periodic heartbeat: what it has and what is free. The Scheduler places containers
/// from these reports and treats a runner that stops reporting as gone.
/// </summary>
public sealed record RunnerCapacityReported
{
    /// <summary>Stable id of the runner node (configured, or generated at start).</summary>
    public required string RunnerId { get; init; }

    /// <summary>Every GPU the runner has, free or not.</summary>
    public required IReadOnlyList<RunnerGpu> Gpus { get; init; }

    /// <summary>CPU cores the runner offers to containers.</summary>
    public required double CpuCores { get; init; }

    /// <summary>Memory the runner offers to containers, in MiB.</summary>
    public required long MemoryMiB { get; init; }

    /// <summary>When the runner took this reading.</summary>
    public required DateTimeOffset ReportedAt { get; init; }

    /// <summary>The containers the runner has now (starting ones included), with their load.</summary>
    public IReadOnlyList<RunnerContainer> Containers { get; init; } = [];

    /// <summary>Where ingresses reach this runner's server containers (with header <c>Modal-Container-Id</c> and the runner key).</summary>
    public Uri? WebForwarderUrl { get; init; }
}

/// <summary>One container as its runner sees it.</summary>
public sealed record RunnerContainer
{
    public required string ContainerId { get; init; }

    /// <summary>The function it was started for (for a class, the method named in <c>StartContainer</c>).</summary>
    public required Guid FunctionId { get; init; }

    /// <summary>Inputs it runs now.</summary>
    public required int RunningInputs { get; init; }

    /// <summary>
    /// Its share of the inputs this runner holds for its function waiting for a free slot (a map's slices, taken from
    /// the queue several inputs at a time). They are no longer in the queue, so its depth does not count them.
    /// </summary>
    public int WaitingInputs { get; init; }

    /// <summary>When it last finished an input or started (now, while it runs one).</summary>
    public required DateTimeOffset LastBusyAt { get; init; }

    /// <summary>GPU indices it holds.</summary>
    public IReadOnlyList<int> GpuIndices { get; init; } = [];

    /// <summary>A name: "Starting", "Running" or "Stopping".</summary>
    public required string State { get; init; }

    /// <summary>A server container (web app or server) ready for requests through <see cref="RunnerCapacityReported.WebForwarderUrl"/>.</summary>
    public bool WebReady { get; init; }

    /// <summary>Requests one server container takes at once; 0 for other containers.</summary>
    public int MaxConcurrentRequests { get; init; }
}

/// <summary>One GPU as a runner sees it.</summary>
public sealed record RunnerGpu
{
    /// <summary>Device index as <c>CUDA_VISIBLE_DEVICES</c> names it.</summary>
    public required int Index { get; init; }

    /// <summary>Platform GPU type ("T4", "A100-80GB", "H100", ...).</summary>
    public required string Type { get; init; }

    /// <summary>Device UUID from the driver (or a generated one for a simulated GPU).</summary>
    public required string Uuid { get; init; }

    /// <summary>Device memory in MiB.</summary>
    public required long MemoryMiB { get; init; }

    /// <summary>True when the GPU is declared in configuration rather than discovered on the host.</summary>
    public required bool Simulated { get; init; }

    /// <summary>Whether a container holds this GPU now.</summary>
    public required bool Allocated { get; init; }
}
