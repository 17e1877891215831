namespace Modal.Contracts.Scaling;

/// <summary>
/// Request (Api → Scheduler): change a function's autoscaler bounds until its app is deployed again (Modal's
/// <c>update_autoscaler</c>). A null field keeps its value. Answered with <see cref="FunctionScalingStats"/>.
/// </summary>
public sealed record UpdateAutoscaler
{
    public required Guid FunctionId { get; init; }
    public int? MinContainers { get; init; }
    public int? MaxContainers { get; init; }
    public int? BufferContainers { get; init; }
    public TimeSpan? ScaledownWindow { get; init; }
}

/// <summary>Request (Api → Scheduler): a function's stats now, answered with <see cref="FunctionScalingStats"/>.</summary>
public sealed record GetFunctionScalingStats
{
    public required Guid FunctionId { get; init; }
}

/// <summary>A function's load and containers as the Scheduler sees them (for a class: its container group's).</summary>
public sealed record FunctionScalingStats
{
    public required Guid FunctionId { get; init; }

    /// <summary>False when the Scheduler does not know the function (not deployed, or its app stopped); the rest is then zero.</summary>
    public required bool Deployed { get; init; }

    /// <summary>Inputs waiting in the function's queue (exact, from the broker).</summary>
    public required int Backlog { get; init; }

    /// <summary>Inputs running in its containers (as of their runners' last heartbeats).</summary>
    public required int RunningInputs { get; init; }

    /// <summary>Containers starting or running (not those stopping).</summary>
    public required int Containers { get; init; }

    public required int MinContainers { get; init; }
    public int? MaxContainers { get; init; }
    public required int BufferContainers { get; init; }
    public required TimeSpan ScaledownWindow { get; init; }

    /// <summary>Its GPU ask and fallbacks as a person reads them (<c>H100, then A100-80GB</c>); null without a GPU.</summary>
    public string? Gpu { get; init; }

    /// <summary>Inputs waiting because every runner with its GPU type has that GPU taken (0 when none wait for a GPU).</summary>
    public int InputsWaitingForGpu { get; init; }

    /// <summary>Why its inputs fail at once: no runner seen lately has its GPU type. Null when they can run.</summary>
    public string? GpuUnavailable { get; init; }
}
