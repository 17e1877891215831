namespace Modal.Scheduler.Domain;

/// <summary>The last capacity a GpuRunner reported; the Scheduler places containers from these rows.</summary>
public sealed class RunnerNode
{
    public required string RunnerId { get; init; }

    public int GpuCount { get; set; }

    public int FreeGpuCount { get; set; }

    public double CpuCores { get; set; }

    public long MemoryMiB { get; set; }

    /// <summary>The reported GPUs as JSON (<c>RunnerGpu[]</c>); kept whole because placement reads them whole.</summary>
    public required string GpusJson { get; set; }

    public DateTimeOffset LastReportedAt { get; set; }
}
