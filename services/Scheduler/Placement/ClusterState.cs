using Modal.Api.Contracts.Gpus;

namespace Modal.Scheduler.Placement;

/// <summary>What a container needs: GPU candidates tried in order (none: CPU only), CPU cores and memory.</summary>
public sealed record ContainerRequest(string ContainerId, IReadOnlyList<GpuRequest> GpuCandidates, double Cpu, long MemoryMiB);

/// <summary>Where a container goes: a runner and the GPU indices it holds there exclusively.</summary>
public sealed record ContainerPlacement(string ContainerId, string RunnerId, string? GpuType, IReadOnlyList<int> GpuIndices);

/// <summary>
/// The Scheduler's view of every runner's GPUs, CPU and memory, and of which container holds what. Placement is
/// best fit, as beta9 does: of the runners that can take a container, the fullest (fewest free GPUs of the type
/// left, then least free CPU), so lightly used nodes drain and can be released. GPU fallbacks are tried in order, each
/// with its own type before an upgrade (<see cref="GpuRequest.Rank"/>).
/// A GPU is held by at most one container; the state is not thread-safe, its owner serialises access.
/// </summary>
public sealed class ClusterState
{
    private readonly Dictionary<string, RunnerState> _runners = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ContainerPlacement> _placements = new(StringComparer.Ordinal);

    // For each GPU type, runners bucketed by how many GPUs of that type they have free: best fit looks at the
    // smallest bucket that can hold the request instead of scanning every runner.
    private readonly Dictionary<string, SortedDictionary<int, HashSet<RunnerState>>> _byFreeGpus = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<RunnerState> _cpuOnlyCandidates = [];

    public int RunnerCount => _runners.Count;

    public int TotalGpus { get; private set; }

    public int AllocatedGpus { get; private set; }

    public IReadOnlyCollection<ContainerPlacement> Placements => _placements.Values;

    /// <summary>Adds a runner with its GPUs (types by index), CPU and memory; replaces nothing already placed.</summary>
    public void AddRunner(string runnerId, IReadOnlyList<string> gpuTypes, double cpu, long memoryMiB)
    {
        if (_runners.ContainsKey(runnerId))
        {
            throw new InvalidOperationException($"Runner {runnerId} is already known.");
        }
        var runner = new RunnerState(runnerId, gpuTypes, cpu, memoryMiB);
        _runners.Add(runnerId, runner);
        TotalGpus += gpuTypes.Count;
        Index(runner);
    }

    /// <summary>Removes a runner that stopped heartbeating; returns the containers it held (their inputs go elsewhere).</summary>
    public IReadOnlyList<ContainerPlacement> RemoveRunner(string runnerId)
    {
        if (!_runners.Remove(runnerId, out var runner))
        {
            return [];
        }
        Unindex(runner);
        TotalGpus -= runner.GpuTypes.Count;
        var lost = _placements.Values.Where(p => p.RunnerId == runnerId).ToList();
        foreach (var placement in lost)
        {
            _placements.Remove(placement.ContainerId);
            AllocatedGpus -= placement.GpuIndices.Count;
        }
        return lost;
    }

    /// <summary>Places a container, or returns null when no runner can take it now.</summary>
    public ContainerPlacement? TryPlace(ContainerRequest request)
    {
        if (_placements.ContainsKey(request.ContainerId))
        {
            throw new InvalidOperationException($"Container {request.ContainerId} is already placed.");
        }
        if (request.GpuCandidates.Count == 0)
        {
            var runner = BestCpuOnly(request);
            return runner is null ? null : Allocate(request, runner, null, 0);
        }
        foreach (var candidate in request.GpuCandidates)
        {
            // Its own type first anywhere in the cluster, then an upgrade (an H200 for an unpinned H100), then the next fallback.
            for (var rank = 0; rank <= GpuRequest.LowestPreference; rank++)
            {
                if (BestFor(candidate, rank, request) is { } fit)
                {
                    return Allocate(request, fit.Runner, fit.Type, candidate.Count);
                }
            }
        }
        return null;
    }

    /// <summary>Whether a container asking for these GPUs (in order), CPU and memory would be placed now; changes nothing.</summary>
    public bool CanPlace(IReadOnlyList<GpuRequest> gpuCandidates, double cpu, long memoryMiB)
    {
        var probe = new ContainerRequest("", gpuCandidates, cpu, memoryMiB);
        return gpuCandidates.Count == 0
            ? BestCpuOnly(probe) is not null
            : gpuCandidates.Any(candidate => Enumerable.Range(0, GpuRequest.LowestPreference + 1).Any(rank => BestFor(candidate, rank, probe) is not null));
    }

    /// <summary>
    /// Records a container a runner reports but this state did not place (e.g. placed before the Scheduler restarted),
    /// on the GPUs it holds; false when one of them is unknown or held by another container here.
    /// </summary>
    public bool Reserve(string containerId, string runnerId, IReadOnlyList<int> gpuIndices, double cpu, long memoryMiB)
    {
        if (_placements.ContainsKey(containerId) || !_runners.TryGetValue(runnerId, out var runner)
            || gpuIndices.Any(index => index < 0 || index >= runner.GpuTypes.Count || runner.Holders[index] is not null)
            || gpuIndices.Distinct().Count() != gpuIndices.Count)
        {
            return false;
        }
        Unindex(runner);
        foreach (var index in gpuIndices)
        {
            runner.Holders[index] = containerId;
        }
        runner.FreeCpu -= cpu;
        runner.FreeMemory -= memoryMiB;
        runner.CpuOf[containerId] = cpu;
        runner.MemoryOf[containerId] = memoryMiB;
        AllocatedGpus += gpuIndices.Count;
        Index(runner);
        _placements.Add(containerId, new ContainerPlacement(containerId, runnerId, gpuIndices.Count == 0 ? null : runner.GpuTypes[gpuIndices[0]], gpuIndices));
        return true;
    }

    public bool HasRunner(string runnerId) => _runners.ContainsKey(runnerId);

    /// <summary>Frees what a stopped container held.</summary>
    public bool Release(string containerId)
    {
        if (!_placements.Remove(containerId, out var placement) || !_runners.TryGetValue(placement.RunnerId, out var runner))
        {
            return false;
        }
        Unindex(runner);
        foreach (var index in placement.GpuIndices)
        {
            runner.Holders[index] = null;
        }
        runner.FreeCpu += runner.CpuOf[containerId];
        runner.FreeMemory += runner.MemoryOf[containerId];
        runner.CpuOf.Remove(containerId);
        runner.MemoryOf.Remove(containerId);
        AllocatedGpus -= placement.GpuIndices.Count;
        Index(runner);
        return true;
    }

    private (RunnerState Runner, string Type)? BestFor(GpuRequest candidate, int rank, ContainerRequest request)
    {
        (RunnerState Runner, string Type, int Free)? best = null;
        foreach (var (type, buckets) in _byFreeGpus)
        {
            if (candidate.Rank(type) != rank)
            {
                continue;
            }
            foreach (var (free, runners) in buckets)
            {
                if (free < candidate.Count || (best is { } b && free >= b.Free))
                {
                    continue;
                }
                // Among equally full runners, the one with least CPU left (still enough).
                var fit = runners.Where(r => r.FreeCpu >= request.Cpu && r.FreeMemory >= request.MemoryMiB).MinBy(r => r.FreeCpu);
                if (fit is not null)
                {
                    best = (fit, type, free);
                    break;
                }
            }
        }
        return best is { } found ? (found.Runner, found.Type) : null;
    }

    private RunnerState? BestCpuOnly(ContainerRequest request) =>
        // CPU-only containers prefer runners without GPUs, then the fullest, so GPUs stay free for GPU work.
        _cpuOnlyCandidates.Where(r => r.FreeCpu >= request.Cpu && r.FreeMemory >= request.MemoryMiB)
            .MinBy(r => (r.GpuTypes.Count == 0 ? 0 : 1, r.FreeCpu));

    private ContainerPlacement Allocate(ContainerRequest request, RunnerState runner, string? type, int count)
    {
        Unindex(runner);
        var indices = new List<int>(count);
        for (var index = 0; index < runner.GpuTypes.Count && indices.Count < count; index++)
        {
            if (runner.Holders[index] is null && string.Equals(runner.GpuTypes[index], type, StringComparison.OrdinalIgnoreCase))
            {
                runner.Holders[index] = request.ContainerId;
                indices.Add(index);
            }
        }
        if (indices.Count != count)
        {
            throw new InvalidOperationException($"Runner {runner.Id} was indexed with {count} free {type} GPUs but has {indices.Count}.");
        }
        runner.FreeCpu -= request.Cpu;
        runner.FreeMemory -= request.MemoryMiB;
        runner.CpuOf[request.ContainerId] = request.Cpu;
        runner.MemoryOf[request.ContainerId] = request.MemoryMiB;
        AllocatedGpus += count;
        Index(runner);
        var placement = new ContainerPlacement(request.ContainerId, runner.Id, type, indices);
        _placements.Add(request.ContainerId, placement);
        return placement;
    }

    private void Index(RunnerState runner)
    {
        foreach (var (type, free) in runner.FreeByType())
        {
            if (!_byFreeGpus.TryGetValue(type, out var buckets))
            {
                _byFreeGpus[type] = buckets = [];
            }
            if (!buckets.TryGetValue(free, out var set))
            {
                buckets[free] = set = [];
            }
            set.Add(runner);
        }
        _cpuOnlyCandidates.Add(runner);
    }

    private void Unindex(RunnerState runner)
    {
        foreach (var (type, free) in runner.FreeByType())
        {
            if (_byFreeGpus.TryGetValue(type, out var buckets) && buckets.TryGetValue(free, out var set))
            {
                set.Remove(runner);
                if (set.Count == 0)
                {
                    buckets.Remove(free);
                }
            }
        }
        _cpuOnlyCandidates.Remove(runner);
    }

    private sealed class RunnerState(string id, IReadOnlyList<string> gpuTypes, double cpu, long memoryMiB)
    {
        public string Id { get; } = id;
        public IReadOnlyList<string> GpuTypes { get; } = gpuTypes;
        public string?[] Holders { get; } = new string?[gpuTypes.Count];
        public double FreeCpu { get; set; } = cpu;
        public long FreeMemory { get; set; } = memoryMiB;
        public Dictionary<string, double> CpuOf { get; } = [];
        public Dictionary<string, long> MemoryOf { get; } = [];

        /// <summary>Free GPUs per type this runner has (types with none free included, so full runners stay indexed).</summary>
        public IEnumerable<(string Type, int Free)> FreeByType() =>
            GpuTypes.Distinct(StringComparer.OrdinalIgnoreCase)
                .Select(type => (type, Enumerable.Range(0, GpuTypes.Count).Count(i => Holders[i] is null
                    && string.Equals(GpuTypes[i], type, StringComparison.OrdinalIgnoreCase))));
    }
}
