namespace Modal.Contracts.Calls;

/// <summary>Where a function's inputs wait: one durable queue per function, shared by the Api and the runners.</summary>
public static class FunctionQueues
{
    /// <summary>The queue name of <paramref name="functionId"/>: <c>fn-{id without dashes}</c>.</summary>
    public static string NameFor(Guid functionId) => $"fn-{functionId:N}";
}
