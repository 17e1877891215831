using MassTransit;
using Modal.Contracts.Images;

namespace Modal.GpuRunner.Images;

/// <summary>
/// Builds an image the Api asked for (any runner may: one shared queue) and publishes the outcome; the log went out
/// while it ran. A build is not retried on another runner: a failing step would fail there too, and the deploy waiting
/// for it shows the step's log.
/// </summary>
public sealed class BuildImageConsumer(ImageBuilder builder) : IConsumer<BuildImage>
{
    public async Task Consume(ConsumeContext<BuildImage> context)
    {
        var finished = await builder.BuildAsync(context.Message, context.CancellationToken);
        await context.Publish(finished);
    }
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
