using MassTransit;
using Modal.Contracts.Scaling;
using Modal.Scheduler.Autoscaling;
using Modal.Scheduler.Infrastructure;
using Modal.Scheduler.Leadership;

namespace Modal.Scheduler.Consumers;

/// <summary>Answers the Api's <c>UpdateAutoscaler</c> and <c>GetFunctionScalingStats</c> requests from the autoscaler's state.</summary>
public sealed class FunctionScalingConsumer(ScalingState state, FunctionQueueBroker queues, ScalingLoop loop)
    : IConsumer<UpdateAutoscaler>, IConsumer<GetFunctionScalingStats>
{
    public async Task Consume(ConsumeContext<UpdateAutoscaler> context)
    {
        var update = context.Message;
        if (state.UpdateBounds(update.FunctionId, update.MinContainers, update.MaxContainers, update.BufferContainers, update.ScaledownWindow))
        {
            loop.Wake(); // New bounds apply now, not at the next tick.
        }
        await context.RespondAsync(await StatsAsync(update.FunctionId, context.CancellationToken));
    }

    public async Task Consume(ConsumeContext<GetFunctionScalingStats> context) =>
        await context.RespondAsync(await StatsAsync(context.Message.FunctionId, context.CancellationToken));

    private async Task<FunctionScalingStats> StatsAsync(Guid functionId, CancellationToken cancellationToken)
    {
        if (state.Describe(functionId) is not { } view)
        {
            return new FunctionScalingStats
            {
                FunctionId = functionId, Deployed = false, Backlog = 0, RunningInputs = 0, Containers = 0, MinContainers = 0, BufferContainers = 0,
                ScaledownWindow = TimeSpan.Zero,
            };
        }
        var backlog = 0;
        foreach (var member in view.FunctionIds)
        {
            backlog += await queues.ReadyAsync(member, cancellationToken);
        }
        var live = view.Containers.Where(c => c.State != ContainerStates.Stopping).ToList();
        return new FunctionScalingStats
        {
            FunctionId = functionId,
            Deployed = true,
            Backlog = backlog,
            RunningInputs = live.Sum(c => c.RunningInputs),
            Containers = live.Count,
            MinContainers = view.Bounds.MinContainers,
            MaxContainers = view.Bounds.MaxContainers,
            BufferContainers = view.Bounds.BufferContainers,
            ScaledownWindow = view.Bounds.ScaledownWindow,
            Gpu = view.Gpu,
            // Queued inputs wait for a GPU when no container may take them yet for want of one (not for want of MaxContainers).
            InputsWaitingForGpu = view.GpusAllTaken && view.GpuUnavailable is null && (view.Bounds.MaxContainers is not { } max || live.Count < max) ? backlog : 0,
            GpuUnavailable = view.GpuUnavailable,
        };
    }
}

/// <summary>
/// The Api's request client publishes, so every Scheduler hears a bounds change (each keeps its own state, the followers'
/// included) and each answers; the Api takes the first answer.
/// </summary>
public sealed class FunctionScalingConsumerDefinition(SchedulerInstance instance)
    : SchedulerInstanceDefinition<FunctionScalingConsumer>(instance, "scaling-requests", 8);
