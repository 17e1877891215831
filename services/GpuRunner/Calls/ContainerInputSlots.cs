using System.Runtime.CompilerServices;
using Modal.GpuRunner.Containers;

namespace Modal.GpuRunner.Calls;

/// <summary>
/// How many map inputs a container runs at once: its function's concurrency, shared by every slice that reaches it
/// (a slice carries many inputs, so the endpoint's message limit alone would not bound them).
/// </summary>
public static class ContainerInputSlots
{
    private static readonly ConditionalWeakTable<ContainerProcess, SemaphoreSlim> Slots = new();

    public static SemaphoreSlim For(ContainerProcess container, int concurrentInputs) =>
        Slots.GetValue(container, _ => new SemaphoreSlim(Math.Max(1, concurrentInputs)));
}
