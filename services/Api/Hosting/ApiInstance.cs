using MassTransit;

namespace Modal.Api.Hosting;

/// <summary>Names this Api process's own queues apart from another replica's (one id for all of them).</summary>
public static class ApiInstance
{
    public static readonly string Id = Guid.NewGuid().ToString("N")[..12];
}

/// <summary>
/// A consumer whose state lives in this process (the ingress's routing table, the proxy-token cache): each Api replica
/// hears every event on a queue of its own, gone with it, instead of the replicas sharing one queue.
/// </summary>
public abstract class ApiInstanceDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    protected ApiInstanceDefinition(string topic, int concurrentMessages)
    {
        Endpoint(endpoint =>
        {
            endpoint.Name = $"api-{ApiInstance.Id}-{topic}";
            endpoint.Temporary = true;
            endpoint.ConcurrentMessageLimit = concurrentMessages;
        });
    }
}
