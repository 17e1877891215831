using MassTransit;
using Modal.Contracts.Images;

namespace Modal.GpuRunner.Images;

/// <summary>
/// Builds an image the Api asked for (any runner may: one shared queue) and publishes the outcome; the log went out
/// while it ran. A build is not retried on another runner: a failing step would fail there too, and the deploy waiting
/// for it shows the step's log.
/// </summary>
public sealed partial class BuildImageConsumer(ImageBuilder builder, Microsoft.Extensions.Options.IOptions<GpuRunnerOptions> options, ILogger<BuildImageConsumer> logger)
    : IConsumer<BuildImage>
{
    public async Task Consume(ConsumeContext<BuildImage> context)
    {
        ImageBuildFinished finished;
        try
        {
            finished = await builder.BuildAsync(context.Message, context.CancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            // Every build ends with an outcome: the deploys waiting for it would otherwise wait out their whole limit.
            LogBuildCrashed(logger, e, context.Message.ImageId);
            finished = new ImageBuildFinished
            {
                WorkspaceId = context.Message.WorkspaceId,
                BuildId = context.Message.BuildId,
                ImageId = context.Message.ImageId,
                Succeeded = false,
                Error = $"The runner's build failed: {e.GetType().Name}: {e.Message}",
                RunnerId = options.Value.RunnerId,
            };
        }
        await context.Publish(finished);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The build of image {ImageId} failed outside its steps")]
    private static partial void LogBuildCrashed(ILogger logger, Exception exception, string imageId);
}

/// <summary>One build at a time per runner: a build takes a core or two and a few hundred MB for a minute or more.</summary>
public sealed class BuildImageConsumerDefinition : ConsumerDefinition<BuildImageConsumer>
{
    public BuildImageConsumerDefinition()
    {
        EndpointName = BuildImage.QueueName;
        ConcurrentMessageLimit = 1;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<BuildImageConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        endpointConfigurator.PrefetchCount = 1;
}
