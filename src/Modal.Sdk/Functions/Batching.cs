namespace Modal;

/// <summary>
/// Dynamic batching, as Modal's <c>@modal.batched(max_batch_size, wait_ms)</c>: callers send single inputs; the
/// container gathers up to <see cref="MaxBatchSize"/> of them, waiting at most <see cref="Wait"/> after the first, and
/// calls the function once with the list. Output <c>i</c> answers input <c>i</c>.
/// </summary>
/// <param name="MaxBatchSize">Largest batch (1 to 1,000).</param>
/// <param name="Wait">Longest wait for a batch to fill once its first input is in (0 to 10 minutes).</param>
public sealed record Batching(int MaxBatchSize, TimeSpan Wait)
{
    /// <summary>Modal's bounds.</summary>
    public const int MaxMaxBatchSize = 1_000;

    /// <summary>Longest allowed wait.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    internal void Validate()
    {
        if (MaxBatchSize is < 1 or > MaxMaxBatchSize)
        {
            throw new InvalidFunctionOptionsException(nameof(MaxBatchSize), $"Batching.MaxBatchSize must be between 1 and {MaxMaxBatchSize} (was {MaxBatchSize}).");
        }
        if (Wait < TimeSpan.Zero || Wait > MaxWait)
        {
            throw new InvalidFunctionOptionsException(nameof(Wait), $"Batching.Wait must be between 0 and 10 minutes (was {Wait}).");
        }
    }
}
