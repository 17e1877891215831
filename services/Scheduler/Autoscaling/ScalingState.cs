using Modal.Api.Contracts.Gpus;
using Modal.Contracts.Apps;
using Modal.Contracts.Calls;
using Modal.Contracts.Containers;
using Modal.Contracts.Runners;
using Modal.Contracts.Web;
using Modal.Scheduler.Placement;

namespace Modal.Scheduler.Autoscaling;

/// <summary>
/// What the Scheduler knows to scale and place: deployed functions (by container group: a class's methods share
/// containers), live runners with their GPUs (<see cref="ClusterState"/>), and every container it asked for or a
/// runner reports. Fed by bus events and heartbeats, read by the scaling loop; one lock serialises both, so two
/// starts never get the same GPU here (and a runner refuses a GPU it already gave, should its view differ).
/// </summary>
public sealed class ScalingState(TimeProvider clock, Microsoft.Extensions.Options.IOptions<SchedulerOptions> options)
{
    // A container asked for but not yet in a heartbeat is kept this long (the command may still be on its way, or its
    // runner waiting for the deployment), then forgotten.
    private static readonly TimeSpan StartGrace = TimeSpan.FromSeconds(20);

    // A heartbeat taken just before a container stopped must not bring it back.
    private static readonly TimeSpan StoppedMemory = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly ClusterState _cluster = new();
    private readonly Dictionary<string, FunctionGroup> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, FunctionGroup> _groupOfFunction = [];
    private readonly Dictionary<string, RunnerView> _runners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TrackedContainer> _containers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _recentlyStopped = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, DateTimeOffset> _stoppedQueues = [];
    private readonly WebDemand _webDemand = new();

    // GPU types by when a runner last reported one (this Scheduler's clock): they outlive the runner by
    // GpuTypeWindow, so a runner restarting does not make its type look absent.
    private readonly Dictionary<string, DateTimeOffset> _gpuTypesSeen = new(StringComparer.OrdinalIgnoreCase);
    private readonly DateTimeOffset _startedAt = clock.GetUtcNow();

    /// <summary>A deployment: its functions scale by their deployed bounds (runtime overrides end here, as on Modal).</summary>
    public void Deploy(AppDeployed app)
    {
        lock (_gate)
        {
            foreach (var group in app.Functions.GroupBy(f => GroupKey(app.AppId, f)))
            {
                var members = group.ToList();
                var scaling = new FunctionGroup(group.Key, app.AppId, app.AppName, members);
                _groups[group.Key] = scaling;
                foreach (var member in members)
                {
                    _groupOfFunction[member.FunctionId] = scaling;
                }
            }
        }
    }

    /// <summary>
    /// A stopped app: its functions no longer scale (its runners stop its containers themselves), and their queues
    /// are deleted once runners have drained them (<see cref="FunctionQueues.DeleteAfterStop"/>).
    /// </summary>
    public void Stop(AppStopped app)
    {
        lock (_gate)
        {
            foreach (var functionId in app.FunctionIds)
            {
                _stoppedQueues[functionId] = clock.GetUtcNow() + FunctionQueues.DeleteAfterStop;
                _webDemand.Forget(functionId);
                if (_groupOfFunction.Remove(functionId, out var group))
                {
                    _groups.Remove(group.Key);
                }
            }
        }
    }

    /// <summary>Queues of stopped apps' functions that are due for deletion now; each is handed out once.</summary>
    public IReadOnlyList<Guid> TakeQueuesToDelete()
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            var due = _stoppedQueues.Where(pair => pair.Value <= now).Select(pair => pair.Key).ToList();
            foreach (var functionId in due)
            {
                _stoppedQueues.Remove(functionId);
            }
            return due;
        }
    }

    /// <summary>Changes a function's bounds until its next deployment; false when it is not deployed.</summary>
    public bool UpdateBounds(Guid functionId, int? minContainers, int? maxContainers, int? bufferContainers, TimeSpan? scaledownWindow)
    {
        lock (_gate)
        {
            if (!_groupOfFunction.TryGetValue(functionId, out var group))
            {
                return false;
            }
            var bounds = group.Bounds;
            group.Override = bounds with
            {
                MinContainers = minContainers ?? bounds.MinContainers,
                MaxContainers = maxContainers ?? bounds.MaxContainers,
                BufferContainers = bufferContainers ?? bounds.BufferContainers,
                ScaledownWindow = scaledownWindow ?? bounds.ScaledownWindow,
            };
            return true;
        }
    }

    /// <summary>
    /// An ingress's requests for a server function. Returns true when they should be acted on now rather than at the
    /// next tick: requests are waiting and no container of the function is on its way (scale from zero, or a burst
    /// beyond what its containers take).
    /// </summary>
    public bool RecordDemand(WebEndpointDemand demand)
    {
        ArgumentNullException.ThrowIfNull(demand);
        lock (_gate)
        {
            if (!_groupOfFunction.TryGetValue(demand.FunctionId, out var group) || !group.IsServer
                || !_webDemand.Record(demand, clock.GetUtcNow()))
            {
                return false;
            }
            return demand.Waiting > 0
                && !_containers.Values.Any(c => c.GroupKey == group.Key && c.State == ContainerStates.Starting);
        }
    }

    /// <summary>A runner's heartbeat: it is alive, and its containers are exactly these.</summary>
    public void Report(RunnerCapacityReported report)
    {
        var now = clock.GetUtcNow();
        if (now - report.ReportedAt > options.Value.RunnerTimeout)
        {
            return; // Waited in the queue while this Scheduler was down: says nothing about the runner now.
        }
        lock (_gate)
        {
            if (!_runners.TryGetValue(report.RunnerId, out var runner))
            {
                var gpuTypes = report.Gpus.OrderBy(g => g.Index).Select(g => g.Type).ToList();
                _cluster.AddRunner(report.RunnerId, gpuTypes, report.CpuCores, report.MemoryMiB);
                _runners[report.RunnerId] = runner = new RunnerView(report.RunnerId);
            }
            else if (report.ReportedAt < runner.LastReportedAt)
            {
                return; // Overtaken by a newer heartbeat.
            }
            // Liveness by the Scheduler's own clock: runners' clocks may differ.
            runner.LastSeenAt = now;
            foreach (var gpu in report.Gpus)
            {
                _gpuTypesSeen[gpu.Type] = now;
            }
            runner.LastReportedAt = report.ReportedAt;
            runner.LastReport = report;
            ForgetStoppedBefore(now - StoppedMemory);

            var reported = report.Containers.ToDictionary(c => c.ContainerId, StringComparer.Ordinal);
            foreach (var container in _containers.Values.Where(c => c.RunnerId == report.RunnerId).ToList())
            {
                if (reported.TryGetValue(container.Id, out var seen))
                {
                    container.RunningInputs = seen.RunningInputs;
                    container.WaitingInputs = seen.WaitingInputs;
                    container.LastBusyAt = seen.LastBusyAt;
                    if (container.State != ContainerStates.Stopping)
                    {
                        container.State = seen.State == ContainerStates.Running ? ContainerStates.Running : container.State;
                    }
                }
                else if (container.StartedOnRunnerAt is { } startedAt && report.ReportedAt < startedAt)
                {
                    // Taken before the container started (both times by the runner's clock) and delivered after its
                    // start event: it says nothing about the container, which would otherwise be forgotten and replaced.
                }
                else if (container.State != ContainerStates.Starting || now - container.RequestedAt > StartGrace)
                {
                    Forget(container.Id);
                }
            }
            foreach (var seen in report.Containers.Where(c => !_containers.ContainsKey(c.ContainerId) && !_recentlyStopped.ContainsKey(c.ContainerId)))
            {
                Adopt(report.RunnerId, seen);
            }
        }
    }

    public void Started(ContainerStarted started)
    {
        lock (_gate)
        {
            if (_containers.TryGetValue(started.ContainerId, out var container) && container.State == ContainerStates.Starting)
            {
                container.State = ContainerStates.Running;
                container.LastBusyAt = started.StartedAt;
                container.StartedOnRunnerAt = started.StartedAt;
            }
        }
    }

    /// <summary>A container stopped, or could not start: what it held is free.</summary>
    public void Gone(string containerId)
    {
        lock (_gate)
        {
            _recentlyStopped[containerId] = clock.GetUtcNow();
            Forget(containerId);
        }
    }

    /// <summary>Runners silent for longer than <paramref name="timeout"/> are gone, with their containers; returns their ids.</summary>
    public IReadOnlyList<string> RemoveSilentRunners(TimeSpan timeout)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            var silent = _runners.Values.Where(r => now - r.LastSeenAt > timeout).Select(r => r.Id).ToList();
            foreach (var runnerId in silent)
            {
                _runners.Remove(runnerId);
                _cluster.RemoveRunner(runnerId);
                foreach (var container in _containers.Values.Where(c => c.RunnerId == runnerId).ToList())
                {
                    _containers.Remove(container.Id);
                }
            }
            return silent;
        }
    }

    /// <summary>The functions to scale now, each with its member queues and bounds.</summary>
    public IReadOnlyList<ScalingTarget> Targets()
    {
        lock (_gate)
        {
            return _groups.Values.Select(g => new ScalingTarget(g.Key, g.Members.Select(m => m.FunctionId).ToList(), g.Bounds)
            {
                ServerFunctionIds = g.Members.Where(m => m.Web?.IsServer == true).Select(m => m.FunctionId).ToList(),
            }).ToList();
        }
    }

    /// <summary>
    /// Decides for one group from its backlog, places the containers to start and marks those to stop; the caller sends
    /// the commands. Placement and the state change happen under one lock, so concurrent decisions cannot share a GPU.
    /// A server function (web app or server) has no queue: its backlog is the requests the ingresses hold waiting for a
    /// container, and its running inputs are its requests in flight (<see cref="WebDemand"/>), or what its containers'
    /// heartbeats count if that is more (an ingress's report may have lapsed while its requests still run).
    /// </summary>
    public ScalingCommands Scale(string groupKey, int backlog)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (!_groups.TryGetValue(groupKey, out var group))
            {
                return ScalingCommands.None;
            }
            var live = _containers.Values.Where(c => c.GroupKey == groupKey && c.State != ContainerStates.Stopping).ToList();
            // A runner takes a map's slices from the queue many inputs at a time and holds those without a slot yet:
            // they are backlog as much as the queue's messages are.
            var web = group.IsServer ? _webDemand.Total(group.Members.Select(m => m.FunctionId), now) : WebLoad.None;
            var load = new FunctionLoad(
                backlog + live.Sum(c => c.WaitingInputs) + web.Waiting, Math.Max(live.Sum(c => c.RunningInputs), web.InFlight), live
                .Select(c => new ContainerActivity(c.Id, c.RunningInputs, c.State == ContainerStates.Starting ? now : c.LastBusyAt))
                .ToList());
            var decision = Autoscaler.Decide(group.Bounds, load, now);
            var starts = new List<StartContainer>();
            var primary = group.Members[0];
            for (var i = 0; i < decision.Start; i++)
            {
                var containerId = NewContainerId(primary);
                if (_cluster.TryPlace(new ContainerRequest(containerId, group.GpuCandidates, primary.Cpu, primary.MemoryMiB)) is not { } placement)
                {
                    break; // No runner can take it now; the next round tries again.
                }
                _containers[containerId] = new TrackedContainer(containerId, placement.RunnerId, groupKey, primary.FunctionId, now, placement.GpuIndices);
                starts.Add(new StartContainer
                {
                    ContainerId = containerId, RunnerId = placement.RunnerId, FunctionId = primary.FunctionId, GpuIndices = placement.GpuIndices,
                    RequestedAt = now,
                });
            }
            var stops = new List<StopContainer>();
            foreach (var containerId in decision.Stop)
            {
                var container = _containers[containerId];
                container.State = ContainerStates.Stopping;
                stops.Add(new StopContainer { ContainerId = containerId, RunnerId = container.RunnerId, Reason = "ScaledDown" });
            }
            return new ScalingCommands(starts, stops, decision.Desired, load.RunningInputs, live.Count);
        }
    }

    /// <summary>What the function has now, for <c>GetCurrentStats</c>; null when it is not deployed.</summary>
    public FunctionScaleView? Describe(Guid functionId)
    {
        lock (_gate)
        {
            if (!_groupOfFunction.TryGetValue(functionId, out var group))
            {
                return null;
            }
            var containers = _containers.Values.Where(c => c.GroupKey == group.Key).ToList();
            return new FunctionScaleView(group.Key, group.Members.Select(m => m.FunctionId).ToList(), group.Bounds,
                containers.Select(c => new ContainerView(c.Id, c.RunnerId, c.State, c.RunningInputs, c.GpuIndices)).ToList())
            {
                Gpu = group.GpuCandidates.Count > 0 ? GpuRequest.Describe(group.GpuCandidates) : null,
                // Asked of the cluster, not remembered from the last decision: a follower, which decides nothing, answers too.
                GpusAllTaken = group.GpuCandidates.Count > 0
                    && !_cluster.CanPlace(group.GpuCandidates, group.Members[0].Cpu, group.Members[0].MemoryMiB),
                GpuUnavailable = UnavailableReason(group, clock.GetUtcNow()),
            };
        }
    }

    /// <summary>
    /// The deployed functions whose GPU, and every fallback, no runner offered within <see cref="SchedulerOptions.GpuTypeWindow"/>,
    /// each with the reason its inputs fail (<see cref="GpuUnavailableReason"/>). Empty while this Scheduler is younger
    /// than the window.
    /// </summary>
    public IReadOnlyDictionary<Guid, string> GpuUnavailableFunctions()
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            var unavailable = new Dictionary<Guid, string>();
            foreach (var group in _groups.Values)
            {
                if (UnavailableReason(group, now) is { } reason)
                {
                    // A server function has no queue: its requests wait in the ingress (not failed here).
                    foreach (var member in group.Members.Where(m => m.Web?.IsServer != true))
                    {
                        unavailable[member.FunctionId] = reason;
                    }
                }
            }
            return unavailable;
        }
    }

    /// <summary>
    /// Why an input of <paramref name="functionId"/> cannot run anywhere now: a message naming the GPU types it asks for
    /// and those present. Null when it can (or may soon), or it is not deployed.
    /// </summary>
    public string? GpuUnavailableReason(Guid functionId)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            return _groupOfFunction.TryGetValue(functionId, out var group) ? UnavailableReason(group, now) : null;
        }
    }

    private string? UnavailableReason(FunctionGroup group, DateTimeOffset now)
    {
        var window = options.Value.GpuTypeWindow;
        if (group.GpuCandidates.Count == 0 || now - _startedAt < window)
        {
            return null;
        }
        var present = _gpuTypesSeen.Where(pair => now - pair.Value <= window).Select(pair => pair.Key)
            .Order(StringComparer.OrdinalIgnoreCase).ToList();
        if (present.Any(type => group.GpuCandidates.Any(candidate => candidate.Accepts(type))))
        {
            return null;
        }
        var seconds = (int)Math.Round(window.TotalSeconds);
        var since = seconds % 60 == 0 ? $"{seconds / 60} min" : $"{seconds} s";
        var which = group.GpuCandidates.Count == 1 ? "that type" : "any of those types";
        return $"'{group.Members[0].Name}' asks for GPU {GpuRequest.Describe(group.GpuCandidates)}, and no runner seen in the last {since} "
            + $"has {which}. GPU types present: {(present.Count == 0 ? "none" : string.Join(", ", present))}.";
    }

    /// <summary>
    /// The runners heard from and not yet given up on, each with its last heartbeat and when it came (by this
    /// Scheduler's clock): the one view of the nodes, for placement and for <c>GET /v1/runners</c> alike.
    /// </summary>
    public IReadOnlyList<(RunnerCapacityReported Report, DateTimeOffset LastSeenAt)> Runners()
    {
        lock (_gate)
        {
            return _runners.Values.Where(r => r.LastReport is not null).OrderBy(r => r.Id, StringComparer.Ordinal)
                .Select(r => (r.LastReport!, r.LastSeenAt)).ToList();
        }
    }

    /// <summary>Every container the Scheduler tracks, for the runners view and tests.</summary>
    public IReadOnlyList<ContainerView> Containers()
    {
        lock (_gate)
        {
            return _containers.Values.Select(c => new ContainerView(c.Id, c.RunnerId, c.State, c.RunningInputs, c.GpuIndices)).ToList();
        }
    }

    private void Adopt(string runnerId, RunnerContainer seen)
    {
        if (!_groupOfFunction.TryGetValue(seen.FunctionId, out var group))
        {
            return; // Its app stopped; the runner stops it.
        }
        var primary = group.Members[0];
        // A container the runner holds is real: tracked even if its GPUs disagree with this view (the runner refuses doubles).
        _cluster.Reserve(seen.ContainerId, runnerId, seen.GpuIndices, primary.Cpu, primary.MemoryMiB);
        _containers[seen.ContainerId] = new TrackedContainer(seen.ContainerId, runnerId, group.Key, seen.FunctionId, clock.GetUtcNow(), seen.GpuIndices)
        {
            State = seen.State,
            RunningInputs = seen.RunningInputs,
            WaitingInputs = seen.WaitingInputs,
            LastBusyAt = seen.LastBusyAt,
        };
    }

    private void Forget(string containerId)
    {
        _containers.Remove(containerId);
        _cluster.Release(containerId);
    }

    private void ForgetStoppedBefore(DateTimeOffset before)
    {
        foreach (var stale in _recentlyStopped.Where(pair => pair.Value < before).Select(pair => pair.Key).ToList())
        {
            _recentlyStopped.Remove(stale);
        }
    }

    private static string GroupKey(Guid appId, DeployedFunctionSpec function) =>
        function.ClassName is { } className ? $"{appId:N}/{className}" : function.FunctionId.ToString("N");

    private static string NewContainerId(DeployedFunctionSpec function)
    {
        var label = function.ClassName ?? function.Name;
        var safe = new string(label.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' ? ch : '-').ToArray());
        return $"{safe}-{Guid.NewGuid():N}"[..Math.Min(safe.Length + 13, 48)];
    }

    private sealed class FunctionGroup(string key, Guid appId, string appName, IReadOnlyList<DeployedFunctionSpec> members)
    {
        public string Key { get; } = key;
        public Guid AppId { get; } = appId;
        public string AppName { get; } = appName;
        public IReadOnlyList<DeployedFunctionSpec> Members { get; } = members;
        public ScalingBounds? Override { get; set; }

        /// <summary>It serves HTTP straight from its containers, so it scales on the ingresses' demand.</summary>
        public bool IsServer { get; } = members.Any(m => m.Web?.IsServer == true);

        public ScalingBounds Bounds => Override ?? new ScalingBounds(
            Members[0].MinContainers, Members[0].MaxContainers, Members[0].BufferContainers, Members[0].ScaledownWindow,
            Members[0].SingleUseContainers ? 1 : Math.Max(1, Members[0].MaxConcurrentInputs));

        /// <summary>The function's GPU ask and its fallbacks, in order (specs were validated at deploy).</summary>
        public IReadOnlyList<GpuRequest> GpuCandidates { get; } = GpuRequest.TryParseAll(members[0].Gpu, members[0].GpuFallbacks, out _) ?? [];
    }

    private sealed class RunnerView(string id)
    {
        public string Id { get; } = id;
        public DateTimeOffset LastSeenAt { get; set; }
        public DateTimeOffset LastReportedAt { get; set; }
        public RunnerCapacityReported? LastReport { get; set; }
    }

    private sealed class TrackedContainer(string id, string runnerId, string groupKey, Guid functionId, DateTimeOffset requestedAt, IReadOnlyList<int> gpuIndices)
    {
        public string Id { get; } = id;
        public string RunnerId { get; } = runnerId;
        public string GroupKey { get; } = groupKey;
        public Guid FunctionId { get; } = functionId;
        public DateTimeOffset RequestedAt { get; } = requestedAt;
        public IReadOnlyList<int> GpuIndices { get; } = gpuIndices;
        public string State { get; set; } = ContainerStates.Starting;
        public int RunningInputs { get; set; }

        /// <summary>Inputs its runner holds for it waiting for a slot: backlog the queue's depth no longer shows.</summary>
        public int WaitingInputs { get; set; }

        public DateTimeOffset LastBusyAt { get; set; } = requestedAt;

        /// <summary>When its runner said it started, by the runner's clock (heartbeats carry the same clock).</summary>
        public DateTimeOffset? StartedOnRunnerAt { get; set; }
    }
}
