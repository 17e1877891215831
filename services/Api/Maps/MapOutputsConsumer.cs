using MassTransit;
using Modal.Contracts.Maps;

namespace Modal.Api.Maps;

/// <summary>Records the outputs runners report for maps (the first per input; repeats after a redelivery are dropped).</summary>
public sealed class MapOutputsConsumer(MapStore maps) : IConsumer<MapOutputsProduced>
{
    public Task Consume(ConsumeContext<MapOutputsProduced> context) => maps.RecordOutputsAsync(context.Message.MapId, context.Message.Outputs);
}

public sealed class MapOutputsConsumerDefinition : ConsumerDefinition<MapOutputsConsumer>
{
    public MapOutputsConsumerDefinition() => EndpointName = "api-map-outputs";

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<MapOutputsConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        // As for call results: a Redis hiccup must not drop outputs.
        endpointConfigurator.UseMessageRetry(retry => retry.Exponential(10, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200)));
}
