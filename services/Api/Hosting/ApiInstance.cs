using MassTransit;

namespace Modal.Api.Hosting;

/// <summary>
/// Names this Api host's own queues apart from another replica's (one id for all of them). A service, not a static:
/// two hosts in one process (tests) are two replicas too.
/// </summary>
public sealed class ApiInstance
{
    public string Id { get; } = Guid.NewGuid().ToString("N")[..12];
}

/// <summary>
/// A consumer whose state lives in this process (the ingress's routing table, the proxy-token cache): each Api replica
/// hears every event on a queue of its own, gone with it, instead of the replicas sharing one queue.
/// </summary>
public abstract class ApiInstanceDefinition<TConsumer> : ConsumerDefinition<TConsumer> where TConsumer : class, IConsumer
{
    protected ApiInstanceDefinition(ApiInstance instance, string topic, int concurrentMessages)
    {
        ArgumentNullException.ThrowIfNull(instance);
        Endpoint(endpoint =>
        {
            endpoint.Name = $"api-{instance.Id}-{topic}";
            endpoint.Temporary = true;
            endpoint.ConcurrentMessageLimit = concurrentMessages;
        });
    }
}
