namespace Modal.Contracts.Calls;

/// <summary>Where a function's inputs wait: one durable queue per function, shared by the Api and the runners.</summary>
public static class FunctionQueues
{
    /// <summary>The queue name of <paramref name="functionId"/>: <c>fn-{id without dashes}</c>.</summary>
    public static string NameFor(Guid functionId) => $"fn-{functionId:N}";

    /// <summary>
    /// How long runners keep consuming the queues of a stopped app's functions, failing what is left there as
    /// <c>Modal.AppStopped</c>. Past it they let go, and a little later the Scheduler deletes the queues: every
    /// <c>modal run</c> is an app of its own, so queues of stopped apps would otherwise pile up on the broker. Longer
    /// than the longest retry delay (60 s), so a retry waiting in a delay queue at the stop comes back while runners
    /// still drain, and fails as the rest.
    /// </summary>
    public static readonly TimeSpan DrainAfterStop = TimeSpan.FromMinutes(2);

    /// <summary>When after an app's stop the Scheduler deletes its functions' queues (runners have let go by then).</summary>
    public static readonly TimeSpan DeleteAfterStop = DrainAfterStop + TimeSpan.FromMinutes(1);
}
