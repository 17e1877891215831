using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>The platform's one way onto RabbitMQ through MassTransit.</summary>
public static class MessageBusExtensions
{
    /// <summary>Name of the connection string that points at RabbitMQ (<c>amqp://user:pass@host:port/vhost</c>).</summary>
    public const string ConnectionName = "rabbitmq";

    /// <summary>
    /// Adds a MassTransit bus on RabbitMQ with kebab-case endpoint names, publisher confirms and the consumers
    /// that <paramref name="configure"/> registers. MassTransit contributes its own health check, so the
    /// service turns unhealthy while the broker is unreachable.
    /// </summary>
    public static TBuilder AddModalMessageBus<TBuilder>(this TBuilder builder, Action<IBusRegistrationConfigurator>? configure = null)
        where TBuilder : IHostApplicationBuilder
    {
        var brokerUri = new Uri(builder.Configuration.GetRequiredConnectionString(ConnectionName));

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            configure?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(brokerUri, host => host.PublisherConfirmation = true);
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}
