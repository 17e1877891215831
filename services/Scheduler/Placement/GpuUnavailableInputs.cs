using MassTransit;
using Modal.Contracts.Calls;
using Modal.Scheduler.Consumers;

namespace Modal.Scheduler.Placement;

/// <summary>
/// Consumes the queues of functions whose GPU type no runner has, so their inputs fail within a scaling round instead
/// of waiting for a container that cannot be placed (<see cref="GpuUnavailableConsumer"/>). Nothing else consumes such
/// a queue: a runner consumes a function's queue only while it has a container of it. The scaling loop's leader keeps
/// the set current each round; a follower consumes none. Not thread-safe: the loop is its only caller.
/// </summary>
public sealed partial class GpuUnavailableInputs(IReceiveEndpointConnector connector, ILogger<GpuUnavailableInputs> logger)
{
    private readonly Dictionary<Guid, HostReceiveEndpointHandle> _consumed = [];

    /// <summary>Consumes exactly the queues of <paramref name="functionIds"/> from now on (connecting and stopping endpoints).</summary>
    public async Task ConsumeOnlyAsync(IReadOnlyCollection<Guid> functionIds, CancellationToken cancellationToken)
    {
        foreach (var (functionId, handle) in _consumed.Where(pair => !functionIds.Contains(pair.Key)).ToList())
        {
            _consumed.Remove(functionId);
            await handle.StopAsync(cancellationToken);
            LogReleased(logger, functionId);
        }
        foreach (var functionId in functionIds.Where(id => !_consumed.ContainsKey(id)))
        {
            var handle = connector.ConnectReceiveEndpoint(FunctionQueues.NameFor(functionId), (context, endpoint) =>
            {
                // The queue's own settings are the runners' (MassTransit's defaults for a named endpoint), so either may declare it.
                endpoint.PrefetchCount = 16;
                endpoint.ConfigureConsumer<GpuUnavailableConsumer>(context);
            });
            _consumed[functionId] = handle;
            await handle.Ready.WaitAsync(cancellationToken);
            LogFailing(logger, functionId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No runner has the GPU type function {FunctionId} asks for: its inputs fail as Modal.GpuUnavailable")]
    private static partial void LogFailing(ILogger logger, Guid functionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Function {FunctionId} can be placed again (or is gone): its inputs are no longer failed")]
    private static partial void LogReleased(ILogger logger, Guid functionId);
}
