namespace Modal.Scheduler.Autoscaling;

/// <summary>A function's scaling bounds (its options, or <c>UpdateAutoscalerAsync</c> overrides until the next deploy).</summary>
/// <param name="MinContainers">Containers kept running even with no work.</param>
/// <param name="MaxContainers">Cap on containers; null for none.</param>
/// <param name="BufferContainers">Extra idle containers kept while the function has work, for bursts.</param>
/// <param name="ScaledownWindow">How long a container may sit idle before it is stopped.</param>
/// <param name="InputsPerContainer">Inputs one container runs at once (MaxConcurrentInputs).</param>
public sealed record ScalingBounds(int MinContainers, int? MaxContainers, int BufferContainers, TimeSpan ScaledownWindow, int InputsPerContainer);

/// <summary>What a function has now: inputs waiting, inputs running, and its containers with when each was last busy.</summary>
public sealed record FunctionLoad(int Backlog, int RunningInputs, IReadOnlyList<ContainerActivity> Containers);

/// <summary>One container of a function and when it last had an input (now, if it has one).</summary>
public sealed record ContainerActivity(string ContainerId, int RunningInputs, DateTimeOffset LastBusyAt);

/// <summary>The autoscaler's answer for one function: how many containers to start, and which to stop.</summary>
public sealed record ScalingDecision(int Desired, int Start, IReadOnlyList<string> Stop);

/// <summary>
/// Desired containers from load, as beta9's queue-depth autoscaler and Modal's bounds define it: enough containers
/// for every waiting and running input at the function's per-container concurrency, plus the buffer while there is
/// work, within min and max. Scale-up is immediate; a container above the desired count stops only after sitting
/// idle for the scale-down window (idlest first), so a function scales to zero when its work stops.
/// </summary>
public static class Autoscaler
{
    public static int DesiredContainers(ScalingBounds bounds, FunctionLoad load)
    {
        ArgumentNullException.ThrowIfNull(bounds);
        ArgumentNullException.ThrowIfNull(load);
        var work = load.Backlog + load.RunningInputs;
        var forWork = (work + bounds.InputsPerContainer - 1) / Math.Max(1, bounds.InputsPerContainer);
        var desired = Math.Max(bounds.MinContainers, forWork + (work > 0 ? bounds.BufferContainers : 0));
        return bounds.MaxContainers is { } max ? Math.Min(desired, Math.Max(max, bounds.MinContainers)) : desired;
    }

    public static ScalingDecision Decide(ScalingBounds bounds, FunctionLoad load, DateTimeOffset now)
    {
        var desired = DesiredContainers(bounds, load);
        var current = load.Containers.Count;
        if (desired >= current)
        {
            return new ScalingDecision(desired, desired - current, []);
        }
        var stop = load.Containers
            .Where(c => c.RunningInputs == 0 && now - c.LastBusyAt >= bounds.ScaledownWindow)
            .OrderBy(c => c.LastBusyAt)
            .Take(current - desired)
            .Select(c => c.ContainerId)
            .ToList();
        return new ScalingDecision(desired, 0, stop);
    }
}
