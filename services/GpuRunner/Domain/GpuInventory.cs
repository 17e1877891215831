using Microsoft.Extensions.Options;
using Modal.Contracts.Runners;

namespace Modal.GpuRunner.Domain;

/// <summary>The GPUs of this node. Discovery through nvidia-smi arrives with GPU placement; until then only simulated GPUs.</summary>
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

    public IReadOnlyList<RunnerGpu> Snapshot() => _gpus;
}
