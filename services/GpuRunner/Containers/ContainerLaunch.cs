namespace Modal.GpuRunner.Containers;

/// <summary>A host folder a container sees at <paramref name="ContainerPath"/>.</summary>
/// <param name="HostPath">The folder on the node.</param>
/// <param name="ContainerPath">Where the container sees it (absolute).</param>
/// <param name="ReadOnly">The container may not change it.</param>
public sealed record ContainerBind(string HostPath, string ContainerPath, bool ReadOnly = false);

/// <summary>The resources a container may use, from its function's options.</summary>
/// <param name="MemoryBytes">Hard memory limit: past it the container is killed.</param>
/// <param name="Cpu">CPU cores guaranteed under contention (a weight, not a cap, as Modal's CPU request).</param>
/// <param name="Pids">Processes and threads at most.</param>
public sealed record ContainerLimits(long MemoryBytes, double Cpu, int Pids);

/// <summary>The function's container ran past its memory limit and was killed.</summary>
public sealed class ContainerOutOfMemoryException(string message) : Exception(message)
{
    /// <summary>The exception type a call that failed this way reports.</summary>
    public const string RemoteType = Modal.Api.Contracts.RemoteErrorTypes.OutOfMemory;
}
