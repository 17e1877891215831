using Modal.Contracts.Runners;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// The input slots of this node's containers: which containers a group has, which of them take inputs, and who holds
/// their slots. An input takes a free slot (<see cref="AcquireAsync"/>) or waits its turn, oldest first. Whenever the
/// slots of a group change, <see cref="CapacityChanged"/> tells the queue subscriptions, so a runner consumes a function's
/// queue only as far as it has containers for it. The one gate here guards every container's mutable state.
/// </summary>
public sealed class InputSlots(TimeProvider clock)
{
    private readonly object _gate = new();
    private readonly Dictionary<string, PooledContainer> _containers = new(StringComparer.Ordinal);

    // Inputs waiting for a slot, per container group, oldest first. A freed slot is handed to the oldest waiter alone:
    // waking every waiter on each release made a busy map spend half the runner's CPU on the gate.
    private readonly Dictionary<string, Queue<SlotWaiter>> _waiting = new(StringComparer.Ordinal);

    /// <summary>Raised with a container group whose input slots changed (a container became ready, or stopped taking inputs).</summary>
    public event Action<string>? CapacityChanged;

    /// <summary>Raised when a container meant for one input (single-use, or one whose start failed) has run it.</summary>
    internal event Action<PooledContainer>? Spent;

    /// <summary>Input slots the ready containers of <paramref name="containerGroup"/> offer together (0: consume nothing).</summary>
    public int SlotsOf(string containerGroup)
    {
        lock (_gate)
        {
            return _containers.Values.Where(c => c.Group == containerGroup && c.Accepting && !c.IsWebServer).Sum(c => c.Slots);
        }
    }

    /// <summary>
    /// A slot of a ready container of <paramref name="containerGroup"/>, waiting while all are busy; null when the group
    /// has no container taking inputs here (the input goes back to the queue for another runner's container).
    /// </summary>
    public Task<ContainerLease?> AcquireAsync(string containerGroup, CancellationToken cancellationToken)
    {
        SlotWaiter waiter;
        lock (_gate)
        {
            if (!HasAcceptingContainer(containerGroup))
            {
                return Task.FromResult<ContainerLease?>(null);
            }
            if (TakeSlot(containerGroup) is { } lease)
            {
                return Task.FromResult<ContainerLease?>(lease);
            }
            waiter = new SlotWaiter();
            if (!_waiting.TryGetValue(containerGroup, out var queue))
            {
                _waiting[containerGroup] = queue = new Queue<SlotWaiter>();
            }
            queue.Enqueue(waiter);
        }
        return WaitForSlotAsync(waiter, cancellationToken);
    }

    /// <summary>Adds a container that is starting (it takes no input yet); false when one with its id is here already.</summary>
    internal bool TryAdd(PooledContainer container)
    {
        lock (_gate)
        {
            return _containers.TryAdd(container.Id, container);
        }
    }

    /// <summary>A container's start is over (it runs, or its failure waits for one input): it takes inputs unless a stop came first.</summary>
    internal void Open(PooledContainer container)
    {
        lock (_gate)
        {
            container.Accepting = !container.StopRequested;
            container.LastBusyAt = clock.GetUtcNow();
        }
        HandOutSlotsOfEveryGroup();
        RaiseCapacityChanged(container.Group);
    }

    /// <summary>
    /// Marks <paramref name="containerId"/> to stop: it takes no new input. Returns the container once it has started
    /// (its inputs are to drain now); null when it is unknown or still starting (it stops for <paramref name="reason"/>
    /// as soon as it has started).
    /// </summary>
    internal PooledContainer? Close(string containerId, string reason)
    {
        PooledContainer? container;
        lock (_gate)
        {
            if (!_containers.TryGetValue(containerId, out container))
            {
                return null;
            }
            container.StopRequested = true;
            if (!container.HasStarted)
            {
                container.PendingStopReason ??= reason;
                return null;
            }
            container.Accepting = false;
        }
        RaiseCapacityChanged(container.Group);
        HandOutSlotsOfEveryGroup();
        return container;
    }

    /// <summary>Makes the container running <paramref name="process"/> take no new input; null when it is not here.</summary>
    internal PooledContainer? Close(ContainerProcess process)
    {
        PooledContainer? container;
        lock (_gate)
        {
            container = _containers.Values.FirstOrDefault(c => c.Process == process);
            if (container is not null)
            {
                container.Accepting = false;
            }
        }
        if (container is not null)
        {
            RaiseCapacityChanged(container.Group);
        }
        return container;
    }

    /// <summary>Removes a container for good; false when another caller removed it first.</summary>
    internal bool Remove(PooledContainer container)
    {
        lock (_gate)
        {
            container.Accepting = false;
            if (!_containers.Remove(container.Id))
            {
                return false;
            }
        }
        RaiseCapacityChanged(container.Group);
        HandOutSlotsOfEveryGroup();
        return true;
    }

    /// <summary>The containers that match <paramref name="predicate"/> now.</summary>
    internal List<PooledContainer> Find(Func<PooledContainer, bool> predicate)
    {
        lock (_gate)
        {
            return _containers.Values.Where(predicate).ToList();
        }
    }

    /// <summary>Whether <paramref name="container"/> is still here and runs no input.</summary>
    internal bool IsIdleMember(PooledContainer container)
    {
        lock (_gate)
        {
            return _containers.ContainsKey(container.Id) && container.InFlight == 0;
        }
    }

    /// <summary>Whether <paramref name="container"/> runs no input.</summary>
    internal bool IsIdle(PooledContainer container)
    {
        lock (_gate)
        {
            return container.InFlight == 0;
        }
    }

    /// <summary>What this runner's heartbeat says about its containers.</summary>
    public IReadOnlyList<RunnerContainer> Describe()
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow();
            return _containers.Values.GroupBy(c => c.Group).SelectMany(group =>
            {
                // The group's waiting inputs, shared out over its containers (the Scheduler adds them up per function).
                var waiting = _waiting.TryGetValue(group.Key, out var queue) ? queue.Count(waiter => !waiter.Task.IsCompleted) : 0;
                var containers = group.ToList();
                return containers.Select((c, i) => new RunnerContainer
                {
                    ContainerId = c.Id,
                    FunctionId = c.FunctionId,
                    RunningInputs = c.InFlight,
                    WaitingInputs = waiting / containers.Count + (i < waiting % containers.Count ? 1 : 0),
                    LastBusyAt = c.InFlight > 0 ? now : c.LastBusyAt,
                    GpuIndices = c.GpuIndices,
                    State = c.Accepting ? "Running" : c.HasStarted ? "Stopping" : "Starting",
                    WebReady = c.Web is not null && c.Accepting,
                    MaxConcurrentRequests = c.IsWebServer ? c.Slots : 0,
                });
            }).ToList();
        }
    }

    /// <summary>
    /// Counts a request the web forwarder sends to server container <paramref name="containerId"/> (disposing the lease
    /// ends it); null when the container is not here, not ready yet or stopping: the ingress picks another. The limit is
    /// the ingresses' to keep (they know every request in flight); a count past it is still counted, not refused.
    /// </summary>
    internal WebRequest? BeginWebRequest(string containerId)
    {
        lock (_gate)
        {
            if (!_containers.TryGetValue(containerId, out var container) || container.Web is not { } web || !container.Accepting)
            {
                return null;
            }
            container.InFlight++;
            container.LastBusyAt = clock.GetUtcNow();
            return new WebRequest(new ContainerLease(this, container), web);
        }
    }

    /// <summary>Frees a slot (a lease was disposed) and hands it to the oldest waiter of its group.</summary>
    internal void Release(PooledContainer container)
    {
        bool spent;
        bool drained;
        lock (_gate)
        {
            container.InFlight--;
            container.LastBusyAt = clock.GetUtcNow();
            var idle = container.InFlight == 0;
            spent = idle && (container.SingleUse || container.Failure is not null) && !container.StopRequested;
            if (spent)
            {
                container.StopRequested = true;
            }
            // Only once a stop waits for it: set at an earlier idle moment, it would let a later stop cut off the inputs
            // (or requests) running then.
            drained = idle && container.StopRequested;
            HandOutSlots(container.Group);
        }
        if (drained)
        {
            container.Drained.TrySetResult();
        }
        if (spent)
        {
            Spent?.Invoke(container);
        }
    }

    private async Task<ContainerLease?> WaitForSlotAsync(SlotWaiter waiter, CancellationToken cancellationToken)
    {
        // Cancelled under the gate, so a waiter is either handed a slot or cancelled, never both (no slot leaks).
        await using var registration = cancellationToken.UnsafeRegister(static (state, token) =>
        {
            var (slots, cancelled) = ((InputSlots, SlotWaiter))state!;
            lock (slots._gate)
            {
                cancelled.TrySetCanceled(token);
            }
        }, (this, waiter));
        return await waiter.Task;
    }

    /// <summary>Hands free slots of <paramref name="group"/> to its oldest waiters; with no container left to wait for, they get null. Under the gate.</summary>
    private void HandOutSlots(string group)
    {
        if (!_waiting.TryGetValue(group, out var queue))
        {
            return;
        }
        while (queue.TryPeek(out var waiter))
        {
            if (waiter.Task.IsCompleted)
            {
                queue.Dequeue(); // Cancelled while waiting.
                continue;
            }
            if (!HasAcceptingContainer(group))
            {
                queue.Dequeue();
                waiter.TrySetResult(null); // Its inputs go back to the queue for another runner's container.
                continue;
            }
            if (TakeSlot(group) is not { } lease)
            {
                return;
            }
            queue.Dequeue();
            waiter.TrySetResult(lease);
        }
    }

    private void HandOutSlotsOfEveryGroup()
    {
        lock (_gate)
        {
            foreach (var group in _waiting.Keys)
            {
                HandOutSlots(group);
            }
        }
    }

    private bool HasAcceptingContainer(string group)
    {
        foreach (var container in _containers.Values)
        {
            if (container.Group == group && container.Accepting && !container.IsWebServer)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A slot of the least loaded accepting container of <paramref name="group"/> (so concurrent inputs spread over them), or null when all are busy. Under the gate.</summary>
    private ContainerLease? TakeSlot(string group)
    {
        PooledContainer? free = null;
        foreach (var container in _containers.Values)
        {
            if (container.Group == group && container.Accepting && !container.IsWebServer && container.InFlight < container.Slots
                && (free is null || container.InFlight < free.InFlight))
            {
                free = container;
            }
        }
        if (free is null)
        {
            return null;
        }
        free.InFlight++;
        free.LastBusyAt = clock.GetUtcNow();
        if (free.SingleUse || free.Failure is not null)
        {
            // One input only: a single-use container exits after it; a failed start fails just this input.
            free.Accepting = false;
            RaiseCapacityChanged(free.Group);
        }
        return new ContainerLease(this, free);
    }

    private void RaiseCapacityChanged(string group) => CapacityChanged?.Invoke(group);

    /// <summary>An input waiting for a slot: completed with its lease, with null (no container of its group left here), or cancelled.</summary>
    private sealed class SlotWaiter() : TaskCompletionSource<ContainerLease?>(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A request in flight to a server container: its count (dispose to end it) and how the container is reached.</summary>
internal sealed record WebRequest(ContainerLease Lease, Web.WebContainer Container);
