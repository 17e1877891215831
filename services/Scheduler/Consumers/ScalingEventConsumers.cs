using MassTransit;
using Modal.Contracts.Apps;
using Modal.Contracts.Calls;
using Modal.Contracts.Containers;
using Modal.Contracts.Web;
using Modal.Scheduler.Autoscaling;
using Modal.Scheduler.Leadership;
using Modal.Scheduler.Schedules;

namespace Modal.Scheduler.Consumers;

/// <summary>Deployments, app stops and container lifecycle events keep the autoscaler's state and the schedules current.</summary>
public sealed class ScalingEventsConsumer(ScalingState state, ScalingLoop loop, ScheduleBook schedules, ScheduleRegistrar registrar)
    : IConsumer<AppDeployed>, IConsumer<AppStopped>, IConsumer<ContainerStarted>, IConsumer<ContainerStopped>, IConsumer<ContainerStartFailed>
{
    public Task Consume(ConsumeContext<AppDeployed> context)
    {
        state.Deploy(context.Message);
        loop.Wake(); // MinContainers start now, not at the next tick.
        schedules.Deploy(context.Message);
        registrar.Wake();
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<AppStopped> context)
    {
        state.Stop(context.Message);
        schedules.Stop(context.Message.AppId);
        registrar.Wake();
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<ContainerStarted> context)
    {
        state.Started(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<ContainerStopped> context)
    {
        state.Gone(context.Message.ContainerId);
        loop.Wake(); // A crashed or single-use container with work left is replaced at once.
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<ContainerStartFailed> context)
    {
        // Placed again at the next tick: by then the runner's heartbeat has shown who holds its GPUs.
        state.Gone(context.Message.ContainerId);
        return Task.CompletedTask;
    }
}

/// <summary>A call was queued: decide now rather than at the next tick, so a cold function starts a container at once.</summary>
public sealed class FunctionCallQueuedConsumer(ScalingLoop loop) : IConsumer<FunctionCallQueued>
{
    public Task Consume(ConsumeContext<FunctionCallQueued> context)
    {
        loop.Wake();
        return Task.CompletedTask;
    }
}

/// <summary>
/// The autoscaler's state lives in this process, so each Scheduler instance hears every event on a queue of its own,
/// gone with it (a restarted Scheduler rebuilds its state from the Api's deployments and the runners' heartbeats). A
/// follower keeps its state current this way too: it must, to take over as leader (<see cref="LeaderLease"/>).
/// </summary>
public abstract class SchedulerInstanceDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    protected SchedulerInstanceDefinition(SchedulerInstance instance, string topic, int concurrentMessages)
    {
        ArgumentNullException.ThrowIfNull(instance);
        Endpoint(endpoint =>
        {
            endpoint.Name = $"scheduler-{instance.Id}-{topic}";
            endpoint.Temporary = true;
            endpoint.ConcurrentMessageLimit = concurrentMessages;
        });
    }
}

/// <summary>One at a time: a deploy and a stop of the same app stay in order.</summary>
public sealed class ScalingEventsConsumerDefinition(SchedulerInstance instance) : SchedulerInstanceDefinition<ScalingEventsConsumer>(instance, "events", 1);

public sealed class FunctionCallQueuedConsumerDefinition(SchedulerInstance instance) : SchedulerInstanceDefinition<FunctionCallQueuedConsumer>(instance, "calls", 16);

/// <summary>
/// An ingress's requests for a server function: kept for the next round, and a round now when requests wait with no
/// container on its way, so the first request to a cold server does not wait for the tick.
/// </summary>
public sealed class WebEndpointDemandConsumer(ScalingState state, ScalingLoop loop) : IConsumer<WebEndpointDemand>
{
    public Task Consume(ConsumeContext<WebEndpointDemand> context)
    {
        if (state.RecordDemand(context.Message))
        {
            loop.Wake();
        }
        return Task.CompletedTask;
    }
}

public sealed class WebEndpointDemandConsumerDefinition(SchedulerInstance instance) : SchedulerInstanceDefinition<WebEndpointDemandConsumer>(instance, "web-demand", 16);
