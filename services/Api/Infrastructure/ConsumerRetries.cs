using MassTransit;

namespace Modal.Api.Infrastructure;

/// <summary>The retry of the Api's consumers that write to Redis: a store's hiccup (a failover, a dropped connection) is retried within seconds.</summary>
public static class ConsumerRetries
{
    public static void UseStoreHiccupRetry(this IReceiveEndpointConfigurator endpoint) =>
        endpoint.UseMessageRetry(retry => retry.Exponential(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200)));
}
