namespace Modal.GpuRunner.Containers;

/// <summary>One container of the pool and its input slots. Mutable members are guarded by <see cref="InputSlots"/>' gate.</summary>
internal sealed class PooledContainer(
    string id, string group, Guid functionId, Guid appId, string bundleId, int slots, bool singleUse, IReadOnlyList<int> gpuIndices,
    DateTimeOffset createdAt)
{
    public string Id { get; } = id;
    public string Group { get; } = group;
    public Guid FunctionId { get; } = functionId;
    public Guid AppId { get; } = appId;
    public string BundleId { get; } = bundleId;
    public int Slots { get; } = slots;
    public bool SingleUse { get; } = singleUse;
    public IReadOnlyList<int> GpuIndices { get; } = gpuIndices;
    public ContainerProcess? Process { get; set; }

    /// <summary>
    /// A server container (an ASP.NET Core app or a server on a port): it takes requests from the web forwarder, never
    /// inputs from the function's queue, and its slots count requests in flight.
    /// </summary>
    public bool IsWebServer { get; init; }

    /// <summary>How the web forwarder reaches it, once its app accepts connections; null for other containers.</summary>
    public Web.WebContainer? Web { get; set; }

    /// <summary>Why its start failed: kept for one input, which fails saying so.</summary>
    public Exception? Failure { get; set; }

    public bool Accepting { get; set; }
    public bool StopRequested { get; set; }

    /// <summary>Why a stop was asked for while it was starting: it stops so as soon as its start is over.</summary>
    public string? PendingStopReason { get; set; }
    public int InFlight { get; set; }
    public DateTimeOffset LastBusyAt { get; set; } = createdAt;

    /// <summary>Set once no input runs in it any more after its stop was asked for (a graceful stop waits for it).</summary>
    public TaskCompletionSource Drained { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Whether it started (or failed to) and is past taking its first inputs.</summary>
    public bool HasStarted => Process is not null || Failure is not null;
}
