using Microsoft.Extensions.Options;
using Modal.Contracts.Runners;

namespace Modal.GpuRunner.Domain;

/// <summary>
/// The GPUs of this node and which container holds each. A GPU is given to one container at a time; the container
/// sees only its own (<c>CUDA_VISIBLE_DEVICES</c>). Discovery through nvidia-smi arrives with GPU placement (the
/// autoscaling issue, which also moves the choice of node to the Scheduler); until then only simulated GPUs.
/// </summary>
public sealed class GpuInventory(IOptions<GpuRunnerOptions> options)
{
    private readonly IReadOnlyList<RunnerGpu> _gpus = options.Value.SimulatedGpus
        .Select((type, index) => new RunnerGpu
        {
            Index = index,
            Type = type,
            Uuid = $"GPU-simulated-{options.Value.RunnerId}-{index}",
            MemoryMiB = 0,
            Simulated = true,
            Allocated = false,
        })
        .ToList();

    private readonly Dictionary<int, string> _holders = [];

    public IReadOnlyList<RunnerGpu> Snapshot()
    {
        lock (_holders)
        {
            return _gpus.Select(gpu => gpu with { Allocated = _holders.ContainsKey(gpu.Index) }).ToList();
        }
    }

    /// <summary>
    /// Gives <paramref name="containerId"/> the first request in <paramref name="requests"/> (<c>"TYPE"</c>,
    /// <c>"TYPE:N"</c> or <c>"any[:N]"</c>, tried in order) that fits the free GPUs; null when none fits.
    /// </summary>
    public IReadOnlyList<RunnerGpu>? Allocate(IEnumerable<string> requests, string containerId)
    {
        lock (_holders)
        {
            foreach (var spec in requests)
            {
                // Specs were validated at deploy; one that still does not parse cannot be satisfied.
                if (!GpuRequest.TryParse(spec, out var request, out _))
                {
                    continue;
                }
                var free = _gpus
                    .Where(gpu => !_holders.ContainsKey(gpu.Index) && request.Accepts(gpu.Type))
                    .Take(request.Count)
                    .ToList();
                if (free.Count == request.Count)
                {
                    foreach (var gpu in free)
                    {
                        _holders[gpu.Index] = containerId;
                    }
                    return free;
                }
            }
            return null;
        }
    }

    /// <summary>Frees whatever <paramref name="containerId"/> held.</summary>
    public void Release(string containerId)
    {
        lock (_holders)
        {
            foreach (var index in _holders.Where(pair => pair.Value == containerId).Select(pair => pair.Key).ToList())
            {
                _holders.Remove(index);
            }
        }
    }

    /// <summary>A human-readable list of the free GPUs, for error messages.</summary>
    public string DescribeFree()
    {
        lock (_holders)
        {
            var free = _gpus.Where(gpu => !_holders.ContainsKey(gpu.Index)).Select(gpu => gpu.Simulated ? $"{gpu.Type} (simulated)" : gpu.Type).ToList();
            return free.Count == 0 ? "none" : string.Join(", ", free);
        }
    }
}
