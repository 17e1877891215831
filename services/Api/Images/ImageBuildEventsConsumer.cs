using MassTransit;
using Modal.Api.Contracts.Images;
using Modal.Api.Infrastructure;
using Modal.Contracts.Images;

namespace Modal.Api.Images;

/// <summary>
/// Files a runner's build log and outcome where every deploy waiting for that image reads them (<see cref="ImageStore"/>),
/// records the layers it built and gives the image's build claim up.
/// </summary>
public sealed partial class ImageBuildEventsConsumer(ImageStore store, ILogger<ImageBuildEventsConsumer> logger)
    : IConsumer<ImageBuildLogged>, IConsumer<ImageBuildFinished>
{
    public Task Consume(ConsumeContext<ImageBuildLogged> context) => store.AppendLogAsync(context.Message.WorkspaceId, context.Message.BuildId, context.Message.Lines);

    public async Task Consume(ConsumeContext<ImageBuildFinished> context)
    {
        var finished = context.Message;
        await store.AddLayersAsync(finished.WorkspaceId, finished.Built);
        var size = finished.Built.Count > 0 ? finished.Built[^1].SizeBytes : 0;
        if (finished.Succeeded && finished.Built.Count > 0)
        {
            await store.MarkBuiltAsync(finished.WorkspaceId, finished.ImageId, finished.Built[^1]);
        }
        await store.AppendResultAsync(finished.WorkspaceId, finished.BuildId, new ImageBuildResult(
            finished.ImageId, finished.Succeeded, finished.Built.Count, finished.FailedStep, finished.FailedStepDescription, finished.Error, size));
        await store.ReleaseAsync(finished.WorkspaceId, finished.ImageId, finished.BuildId);
        LogFinished(logger, finished.ImageId, finished.RunnerId, finished.Succeeded, finished.Built.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Image {ImageId} built on {RunnerId}: succeeded {Succeeded}, {Steps} steps built")]
    private static partial void LogFinished(ILogger logger, string imageId, string runnerId, bool succeeded, int steps);
}

/// <summary>One shared queue for all Api replicas, one message at a time so a build's log lines stay in order.</summary>
public sealed class ImageBuildEventsConsumerDefinition : ConsumerDefinition<ImageBuildEventsConsumer>
{
    public ImageBuildEventsConsumerDefinition()
    {
        EndpointName = "api-image-builds";
        ConcurrentMessageLimit = 1;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<ImageBuildEventsConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        endpointConfigurator.UseStoreHiccupRetry();
}
