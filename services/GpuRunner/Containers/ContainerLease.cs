namespace Modal.GpuRunner.Containers;

/// <summary>An input's hold on one slot of a container; disposing it frees the slot.</summary>
public sealed class ContainerLease : IDisposable
{
    private readonly InputSlots _slots;
    private readonly PooledContainer _container;
    private int _released;

    internal ContainerLease(InputSlots slots, PooledContainer container)
    {
        _slots = slots;
        _container = container;
    }

    public string ContainerId => _container.Id;

    /// <summary>The container's process; throws <see cref="ContainerStartException"/> when its start failed.</summary>
    public ContainerProcess Process => _container.Process ?? throw new ContainerStartException(_container.Failure!);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _slots.Release(_container);
        }
    }
}
