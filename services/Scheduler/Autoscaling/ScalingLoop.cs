using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Containers;
using Modal.Scheduler.Infrastructure;
using Modal.Scheduler.Leadership;
using Modal.Scheduler.Placement;

namespace Modal.Scheduler.Autoscaling;

/// <summary>
/// The autoscaler's loop: every <see cref="SchedulerOptions.ScalingInterval"/> (and at once when woken, e.g. by a call
/// being queued or a container stopping) it forgets runners that stopped heartbeating, reads each function's exact
/// backlog, decides its containers and sends <see cref="StartContainer"/>/<see cref="StopContainer"/> to the runners.
/// Only the leader (<see cref="LeaderLease"/>) decides, places and deletes queues; a follower's state stays current from
/// events and heartbeats (it must, to take over), and it runs a round at once when it becomes leader.
/// </summary>
public sealed partial class ScalingLoop(
    ScalingState state, FunctionQueueBroker queues, GpuUnavailableInputs gpuUnavailable, IBus bus, LeaderLease lease,
    IOptions<SchedulerOptions> options, ILogger<ScalingLoop> logger)
    : RoundLoop(lease)
{
    protected override TimeSpan Interval => options.Value.ScalingInterval;

    // The broker may be down; the next round tries again with fresh figures.
    protected override void OnRoundFailed(Exception exception) => LogRoundFailed(logger, exception);

    protected override async Task RoundAsync(CancellationToken cancellationToken)
    {
        foreach (var runnerId in state.RemoveSilentRunners(options.Value.RunnerTimeout))
        {
            // Its unacknowledged inputs go back to the queue when its broker connection drops; replacements follow.
            LogRunnerGone(logger, runnerId);
        }
        if (!Lease.IsLeader)
        {
            await gpuUnavailable.ConsumeOnlyAsync([], cancellationToken); // Failing inputs is the leader's, as placing them is.
            return; // A follower only listens.
        }
        // Inputs of functions whose GPU type no runner has fail now, rather than wait for a runner that may never come.
        await gpuUnavailable.ConsumeOnlyAsync(state.GpuUnavailableFunctions().Keys.ToList(), cancellationToken);
        foreach (var functionId in state.TakeQueuesToDelete())
        {
            var left = await queues.DeleteAsync(functionId, cancellationToken);
            LogQueueDeleted(logger, functionId, left);
        }
        foreach (var target in state.Targets())
        {
            var backlog = 0;
            // A server function's demand comes from the ingresses (ScalingState adds it); it has no queue to ask about.
            foreach (var functionId in target.FunctionIds.Except(target.ServerFunctionIds))
            {
                backlog += await queues.ReadyAsync(functionId, cancellationToken);
            }
            // Asked again per function: reading backlogs takes time, and a lease that lapsed meanwhile may be another's.
            // Scale records placements, so a follower never calls it (it would hold GPUs for containers never started).
            if (!Lease.IsLeader)
            {
                LogLeadershipLostMidRound(logger);
                return;
            }
            var commands = state.Scale(target.GroupKey, backlog);
            foreach (var start in commands.Starts)
            {
                var runner = await bus.GetSendEndpoint(RunnerQueues.ContainersAddressOf(start.RunnerId));
                await runner.Send(start, cancellationToken);
                LogStarting(logger, start.ContainerId, start.RunnerId, start.GpuIndices, backlog, commands.Desired);
            }
            foreach (var stop in commands.Stops)
            {
                var runner = await bus.GetSendEndpoint(RunnerQueues.ContainersAddressOf(stop.RunnerId));
                await runner.Send(stop, cancellationToken);
                LogStopping(logger, stop.ContainerId, stop.RunnerId);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Starting container {ContainerId} on runner {RunnerId} (GPUs {Gpus}; backlog {Backlog}, desired {Desired})")]
    private static partial void LogStarting(ILogger logger, string containerId, string runnerId, IReadOnlyList<int> gpus, int backlog, int desired);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping idle container {ContainerId} on runner {RunnerId}")]
    private static partial void LogStopping(ILogger logger, string containerId, string runnerId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Runner {RunnerId} stopped heartbeating; its containers are forgotten")]
    private static partial void LogRunnerGone(ILogger logger, string runnerId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted the queue of function {FunctionId} of a stopped app ({Left} inputs were left in it)")]
    private static partial void LogQueueDeleted(ILogger logger, Guid functionId, uint left);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leadership ended during a scaling round; the rest of it is left to the new leader")]
    private static partial void LogLeadershipLostMidRound(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A scaling round failed")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
