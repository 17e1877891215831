using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Modal.Contracts.Runners;
using Modal.Contracts.Web;

namespace Modal.Api.Web;

/// <summary>A ready server container, reached through its runner's web forwarder.</summary>
public sealed class ContainerRoute(string containerId, string runnerId, Uri forwarderUrl, int maxConcurrentRequests, DateTimeOffset readyAt)
{
    public string ContainerId { get; } = containerId;
    public string RunnerId { get; } = runnerId;

    /// <summary>The forwarder's address without a trailing slash: the request's path and query are appended to it.</summary>
    public string ForwarderPrefix { get; } = forwarderUrl.GetLeftPart(UriPartial.Path).TrimEnd('/');

    public int MaxConcurrentRequests { get; } = Math.Max(1, maxConcurrentRequests);
    public DateTimeOffset ReadyAt { get; } = readyAt;

    /// <summary>Requests this replica has on it now (guarded by its function's lock).</summary>
    internal int InFlight { get; set; }

    /// <summary>Set once it left the table: its slots are not handed out again.</summary>
    internal bool Removed { get; set; }

    /// <summary>What the proxy needs to reach it, made once (not per request).</summary>
    internal object? Transformer { get; set; }
}

/// <summary>A server function's ready containers and the requests waiting for a slot on one of them.</summary>
public sealed class FunctionRoutes(Guid functionId)
{
    public Guid FunctionId { get; } = functionId;
    internal readonly Lock Gate = new();

    // Copied on change, read under the lock: a request's pick walks a handful of entries.
    internal ContainerRoute[] Containers = [];
    internal readonly LinkedList<TaskCompletionSource<ContainerRoute?>> Waiters = new();
    internal int InFlight;
    internal bool Closed;

    /// <summary>Requests served now and requests waiting, as the demand report counts them.</summary>
    public (int InFlight, int Waiting) Demand()
    {
        lock (Gate)
        {
            return (InFlight, Waiters.Count);
        }
    }

    /// <summary>The ready containers now (a copy).</summary>
    public IReadOnlyList<ContainerRoute> Ready()
    {
        lock (Gate)
        {
            return Containers;
        }
    }
}

/// <summary>The outcome of asking for a container slot.</summary>
public enum SlotOutcome
{
    /// <summary>A slot on a container: the request goes there.</summary>
    Acquired,

    /// <summary>No slot freed (nor container became ready) within the wait.</summary>
    TimedOut,

    /// <summary>Too many requests wait already for this endpoint at this replica.</summary>
    Full,

    /// <summary>The function's app stopped while the request waited.</summary>
    Gone,
}

/// <summary>
/// The ingress's routing table (decision 28): the ready containers of every server function, fed by
/// <see cref="WebContainerReady"/>, <c>ContainerStopped</c> and the runners' heartbeats (a runner silent for
/// <see cref="IngressOptions.RunnerSilence"/> loses its containers), and the slots on them. A request takes the
/// least-loaded container under its limit; when none has a slot it waits in line (bounded in time and number) and is
/// handed the first slot that frees or the first container that becomes ready. Nothing here touches PostgreSQL or the bus.
/// </summary>
public sealed class ServerRoutes(IOptions<IngressOptions> options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<Guid, FunctionRoutes> _functions = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _runnersSeenAt = new(StringComparer.Ordinal);

    // Containers stopped lately: a heartbeat taken before the stop must not bring one back.
    private readonly ConcurrentDictionary<string, DateTimeOffset> _stopped = new(StringComparer.Ordinal);
    private static readonly TimeSpan StoppedMemory = TimeSpan.FromMinutes(2);

    private volatile TaskCompletionSource _demandWake = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes when a request starts waiting with no container up, so the demand report goes out at once; the reporter
    /// takes a fresh one (<see cref="RearmDemandWake"/>) before each report.
    /// </summary>
    public Task DemandWake => _demandWake.Task;

    /// <summary>Starts a new wait for <see cref="DemandWake"/> once the last one has fired.</summary>
    public void RearmDemandWake()
    {
        if (_demandWake.Task.IsCompleted)
        {
            _demandWake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    /// <summary>The routes of a server function (made on its first request or container).</summary>
    public FunctionRoutes For(Guid functionId) => _functions.GetOrAdd(functionId, static id => new FunctionRoutes(id));

    /// <summary>Every function that has routes here (for the demand report).</summary>
    public IEnumerable<FunctionRoutes> Functions => _functions.Values;

    /// <summary>
    /// A slot on one of the function's containers, waiting at most <paramref name="wait"/> for one. The caller gives
    /// it back with <see cref="Release"/>.
    /// </summary>
    public async ValueTask<(SlotOutcome Outcome, ContainerRoute? Container)> AcquireAsync(
        FunctionRoutes routes, TimeSpan wait, CancellationToken cancellationToken)
    {
        TaskCompletionSource<ContainerRoute?> waiter;
        LinkedListNode<TaskCompletionSource<ContainerRoute?>> node;
        var none = false;
        lock (routes.Gate)
        {
            if (routes.Closed)
            {
                return (SlotOutcome.Gone, null);
            }
            if (routes.Waiters.Count == 0 && Pick(routes) is { } free)
            {
                return (SlotOutcome.Acquired, free);
            }
            if (routes.Waiters.Count >= options.Value.MaxWaitingRequestsPerEndpoint || wait <= TimeSpan.Zero)
            {
                return (routes.Waiters.Count >= options.Value.MaxWaitingRequestsPerEndpoint ? SlotOutcome.Full : SlotOutcome.TimedOut, null);
            }
            waiter = new TaskCompletionSource<ContainerRoute?>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = routes.Waiters.AddLast(waiter);
            none = routes.Containers.Length == 0;
        }
        if (none)
        {
            // Scale from zero: the Scheduler hears of the waiting request now, not at the next report.
            _demandWake.TrySetResult();
        }

        try
        {
            var container = await waiter.Task.WaitAsync(wait, clock, cancellationToken);
            return container is null ? (SlotOutcome.Gone, null) : (SlotOutcome.Acquired, container);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            lock (routes.Gate)
            {
                if (node.List is not null)
                {
                    routes.Waiters.Remove(node);
                }
            }
            // Handed a slot just as the wait ended: give it back, or use it if only the wait (not the caller) gave up.
            if (waiter.Task.IsCompletedSuccessfully && waiter.Task.Result is { } late)
            {
                if (e is TimeoutException)
                {
                    return (SlotOutcome.Acquired, late);
                }
                Release(routes, late);
            }
            if (e is OperationCanceledException)
            {
                throw;
            }
            return (SlotOutcome.TimedOut, null);
        }
    }

    /// <summary>Gives back a slot taken with <see cref="AcquireAsync"/>; the next request in line gets it.</summary>
    public void Release(FunctionRoutes routes, ContainerRoute container)
    {
        lock (routes.Gate)
        {
            container.InFlight--;
            routes.InFlight--;
            Dispatch(routes);
        }
    }

    /// <summary>Takes the container out of the table at once (its runner said it does not have it), before its stop event.</summary>
    public void Drop(FunctionRoutes routes, ContainerRoute container)
    {
        _stopped[container.ContainerId] = clock.GetUtcNow();
        Remove(routes, container.ContainerId);
    }

    // The least-loaded container with a free slot; takes the slot. Caller holds the lock.
    private static ContainerRoute? Pick(FunctionRoutes routes)
    {
        ContainerRoute? best = null;
        foreach (var container in routes.Containers)
        {
            if (container.InFlight < container.MaxConcurrentRequests
                && (best is null || container.InFlight * best.MaxConcurrentRequests < best.InFlight * container.MaxConcurrentRequests))
            {
                best = container;
            }
        }
        if (best is not null)
        {
            best.InFlight++;
            routes.InFlight++;
        }
        return best;
    }

    // Hands free slots to the requests in line, first come first served. Caller holds the lock.
    private static void Dispatch(FunctionRoutes routes)
    {
        while (routes.Waiters.First is { } first && Pick(routes) is { } container)
        {
            routes.Waiters.RemoveFirst();
            if (!first.Value.TrySetResult(container))
            {
                container.InFlight--;
                routes.InFlight--;
            }
        }
    }

    /// <summary>A server container is ready (its runner's event, or its first heartbeat listing it ready).</summary>
    public void Ready(WebContainerReady ready)
    {
        _runnersSeenAt.AddOrUpdate(ready.RunnerId, ready.ReadyAt, (_, seen) => seen > ready.ReadyAt ? seen : ready.ReadyAt);
        Add(ready.FunctionId, new ContainerRoute(ready.ContainerId, ready.RunnerId, ready.ForwarderUrl, ready.MaxConcurrentRequests, ready.ReadyAt));
    }

    private void Add(Guid functionId, ContainerRoute container)
    {
        if (_stopped.ContainsKey(container.ContainerId))
        {
            return;
        }
        var routes = For(functionId);
        lock (routes.Gate)
        {
            if (routes.Containers.Any(c => c.ContainerId == container.ContainerId))
            {
                return;
            }
            routes.Containers = [.. routes.Containers, container];
            Dispatch(routes);
        }
    }

    /// <summary>A container stopped: no request goes to it any more (those on it end as its runner answers them).</summary>
    public void Stopped(string containerId, Guid functionId, DateTimeOffset stoppedAt)
    {
        _stopped[containerId] = stoppedAt;
        if (_functions.TryGetValue(functionId, out var routes))
        {
            Remove(routes, containerId);
        }
    }

    private static void Remove(FunctionRoutes routes, string containerId)
    {
        lock (routes.Gate)
        {
            var kept = routes.Containers.Where(c => c.ContainerId != containerId).ToArray();
            foreach (var gone in routes.Containers.Where(c => c.ContainerId == containerId))
            {
                gone.Removed = true;
            }
            routes.Containers = kept;
        }
    }

    /// <summary>
    /// A runner's heartbeat: its ready server containers are in the table (an ingress started after their ready event
    /// learns them here), and those it no longer lists as ready, ready before the heartbeat was taken, leave it.
    /// </summary>
    public void Heartbeat(RunnerCapacityReported report)
    {
        _runnersSeenAt[report.RunnerId] = clock.GetUtcNow();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        if (report.WebForwarderUrl is { } forwarder)
        {
            foreach (var container in report.Containers.Where(c => c.WebReady))
            {
                listed.Add(container.ContainerId);
                Add(container.FunctionId, new ContainerRoute(container.ContainerId, report.RunnerId, forwarder, container.MaxConcurrentRequests, report.ReportedAt));
            }
        }
        RemoveWhere(c => c.RunnerId == report.RunnerId && !listed.Contains(c.ContainerId) && c.ReadyAt < report.ReportedAt);
    }

    /// <summary>The containers of runners silent for <see cref="IngressOptions.RunnerSilence"/> leave the table; old stop marks are forgotten.</summary>
    public void ExpireSilentRunners()
    {
        var now = clock.GetUtcNow();
        foreach (var (runner, seen) in _runnersSeenAt)
        {
            if (now - seen > options.Value.RunnerSilence)
            {
                _runnersSeenAt.TryRemove(KeyValuePair.Create(runner, seen));
                RemoveWhere(c => c.RunnerId == runner);
            }
        }
        foreach (var (container, stoppedAt) in _stopped)
        {
            if (now - stoppedAt > StoppedMemory)
            {
                _stopped.TryRemove(KeyValuePair.Create(container, stoppedAt));
            }
        }
    }

    private void RemoveWhere(Func<ContainerRoute, bool> gone)
    {
        foreach (var routes in _functions.Values)
        {
            ContainerRoute[] containers;
            lock (routes.Gate)
            {
                containers = routes.Containers;
            }
            foreach (var container in containers.Where(gone))
            {
                Remove(routes, container.ContainerId);
            }
        }
    }

    /// <summary>The app of these functions stopped: requests waiting for them end (404), and their routes are forgotten.</summary>
    public void Close(IEnumerable<Guid> functionIds)
    {
        foreach (var functionId in functionIds)
        {
            if (_functions.TryRemove(functionId, out var routes))
            {
                lock (routes.Gate)
                {
                    routes.Closed = true;
                    routes.Containers = [];
                    while (routes.Waiters.First is { } first)
                    {
                        routes.Waiters.RemoveFirst();
                        first.Value.TrySetResult(null);
                    }
                }
            }
        }
    }
}
