using Modal.Contracts.Containers;

namespace Modal.Scheduler.Autoscaling;

/// <summary>Container states as runners report them and the Scheduler tracks them (names, not ordinals).</summary>
public static class ContainerStates
{
    public const string Starting = "Starting";
    public const string Running = "Running";
    public const string Stopping = "Stopping";
}

/// <summary>A container group to scale: the queues of its functions and its bounds.</summary>
public sealed record ScalingTarget(string GroupKey, IReadOnlyList<Guid> FunctionIds, ScalingBounds Bounds)
{
    /// <summary>Its members that serve HTTP straight from containers: they have no queue to read.</summary>
    public IReadOnlyList<Guid> ServerFunctionIds { get; init; } = [];
}

/// <summary>The commands one scaling decision sends, and what it saw.</summary>
public sealed record ScalingCommands(
    IReadOnlyList<StartContainer> Starts, IReadOnlyList<StopContainer> Stops, int Desired, int RunningInputs, int Containers)
{
    public static ScalingCommands None { get; } = new([], [], 0, 0, 0);
}

/// <summary>A container as the Scheduler tracks it.</summary>
public sealed record ContainerView(string ContainerId, string RunnerId, string State, int RunningInputs, IReadOnlyList<int> GpuIndices);

/// <summary>A function's group, bounds and containers now.</summary>
public sealed record FunctionScaleView(string GroupKey, IReadOnlyList<Guid> FunctionIds, ScalingBounds Bounds, IReadOnlyList<ContainerView> Containers)
{
    /// <summary>Its GPU ask and fallbacks as a person reads them (<c>H100, then A100-80GB</c>); null without a GPU.</summary>
    public string? Gpu { get; init; }

    /// <summary>It asks for a GPU and no runner has one of its types free now: a new container of it would wait for a GPU.</summary>
    public bool GpusAllTaken { get; init; }

    /// <summary>Why its inputs fail at once (no runner has its GPU type); null when they can run.</summary>
    public string? GpuUnavailable { get; init; }
}
