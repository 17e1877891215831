using MassTransit;
using Modal.Api.Hosting;
using Modal.Contracts.Apps;
using Modal.Contracts.Containers;
using Modal.Contracts.Runners;
using Modal.Contracts.Web;

namespace Modal.Api.Web;

/// <summary>
/// What the ingress of this replica hears: deploys and stops (its endpoint directory drops the workspace's endpoints),
/// and server containers becoming ready, stopping and being listed in heartbeats (its routing table).
/// </summary>
public sealed class IngressEventsConsumer(WebEndpointDirectory directory, ServerRoutes routes) :
    IConsumer<AppDeployed>,
    IConsumer<AppStopped>,
    IConsumer<WebContainerReady>,
    IConsumer<ContainerStopped>,
    IConsumer<RunnerCapacityReported>
{
    public Task Consume(ConsumeContext<AppDeployed> context)
    {
        directory.Forget(context.Message.WorkspaceId);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<AppStopped> context)
    {
        directory.Forget(context.Message.WorkspaceId);
        routes.Close(context.Message.FunctionIds);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<WebContainerReady> context)
    {
        routes.Ready(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<ContainerStopped> context)
    {
        routes.Stopped(context.Message.ContainerId, context.Message.FunctionId, context.Message.StoppedAt);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<RunnerCapacityReported> context)
    {
        routes.Heartbeat(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>
/// A queue of this replica's own, gone with it: every replica's table needs every event. One message at a time keeps a
/// container's ready and stop (and an app's deploy and stop) in order; each is a few dictionary operations.
/// </summary>
public sealed class IngressEventsConsumerDefinition(ApiInstance instance) : ApiInstanceDefinition<IngressEventsConsumer>(instance, "ingress", 1);
