namespace Modal;

/// <summary>Where and for how long a Queue put keeps its items.</summary>
public sealed record QueuePutOptions
{
    /// <summary>The partition (1-64 bytes); null for the default partition.</summary>
    public string? Partition { get; init; }

    /// <summary>How long after this put the partition is cleared; null for Modal's 24 hours.</summary>
    public TimeSpan? PartitionTtl { get; init; }
}

/// <summary>How a Queue get waits.</summary>
public sealed record QueueGetOptions
{
    /// <summary>The partition (1-64 bytes); null for the default partition.</summary>
    public string? Partition { get; init; }

    /// <summary>Wait for an item (the default); false looks once.</summary>
    public bool Block { get; init; } = true;

    /// <summary>How long a blocking get waits; null waits as long as it takes.</summary>
    public TimeSpan? Timeout { get; init; }
}
