using Microsoft.Extensions.Options;
using Modal.Contracts.Runners;

namespace Modal.GpuRunner.Domain;

/// <summary>
/// The GPUs of this node and which container holds each. A GPU is given to one container at a time; the container
/// sees only its own (<c>CUDA_VISIBLE_DEVICES</c>). The Scheduler chooses which; this inventory refuses a GPU that is
/// already held. The GPUs are the node's own, found with nvidia-smi (<see cref="NvidiaSmi"/>), or, where configured,
/// simulated ones (marked so wherever they are shown); never a mix.
/// </summary>
public sealed class GpuInventory(IOptions<GpuRunnerOptions> options)
{
    private readonly List<RunnerGpu> _gpus = Find(options.Value);

    private static List<RunnerGpu> Find(GpuRunnerOptions settings) => settings.SimulatedGpus.Count > 0
        ? SimulatedGpusAttribute.Expand(settings.SimulatedGpus)
            .Select((type, index) => new RunnerGpu
            {
                Index = index,
                Type = type,
                Uuid = $"GPU-simulated-{settings.RunnerId}-{index}",
                MemoryMiB = 0,
                Simulated = true,
                Allocated = false,
            })
            .ToList()
        : settings.DiscoverGpus ? (NvidiaSmi.Discover() ?? []).OrderBy(gpu => gpu.Index).ToList() : [];

    private readonly Dictionary<int, string> _holders = [];

    public IReadOnlyList<RunnerGpu> Snapshot()
    {
        lock (_holders)
        {
            return _gpus.Select(gpu => gpu with { Allocated = _holders.ContainsKey(gpu.Index) }).ToList();
        }
    }

    /// <summary>
    /// Gives <paramref name="containerId"/> exactly the GPUs the Scheduler chose; null (and nothing held) when one of
    /// them is unknown here or held by another container: a GPU is never given twice, even when starts race.
    /// </summary>
    public IReadOnlyList<RunnerGpu>? AllocateExact(IReadOnlyList<int> indices, string containerId)
    {
        lock (_holders)
        {
            if (indices.Distinct().Count() != indices.Count
                || indices.Any(index => index < 0 || index >= _gpus.Count || _holders.ContainsKey(index)))
            {
                return null;
            }
            foreach (var index in indices)
            {
                _holders[index] = containerId;
            }
            return indices.Select(index => _gpus[index]).ToList();
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
