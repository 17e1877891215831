using System.Collections.Concurrent;
using MassTransit;
using Modal.Contracts.Calls;
using RabbitMQ.Client;

namespace Modal.GpuRunner.Infrastructure;

/// <summary>
/// Sends an input back to its function's queue after a delay, with the broker holding it meanwhile: no consumer,
/// container slot or prefetch of any runner waits for it, and it survives a runner's restart. The broker has no
/// delayed-exchange plugin here, so each delay is a durable queue of its own, <c>modal-delay-{ms}</c>, with a
/// queue-level TTL of that delay, no consumer, and the default exchange as its dead-letter exchange. An input is sent
/// to the fanout exchange of the same name with its function's queue as routing key; at expiry RabbitMQ dead-letters
/// it with that routing key through the default exchange, straight into <c>fn-{id}</c>. With one TTL per queue,
/// messages expire in the order they came, so none waits behind a longer one (a per-message TTL only expires at the
/// head of a queue).
/// </summary>
public sealed class DelayQueues(IConfiguration configuration) : IAsyncDisposable
{
    // Delays are rounded up to a step so the delays of every function's policy share a bounded set of queues (at most
    // 100 below 10 s and 50 more up to the 60 s a policy allows): 100 ms, and 1 s past 10 s, is at most 10 % late.
    private static readonly TimeSpan FineStep = TimeSpan.FromMilliseconds(100), CoarseStep = TimeSpan.FromSeconds(1),
        CoarseFrom = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, bool> _declared = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    /// <summary>The delay an input actually waits for a wanted <paramref name="delay"/>: rounded up to its step.</summary>
    public static TimeSpan Round(TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }
        var step = delay <= CoarseFrom ? FineStep : CoarseStep;
        return TimeSpan.FromTicks((delay.Ticks + step.Ticks - 1) / step.Ticks * step.Ticks);
    }

    /// <summary>The queue (and exchange) where inputs wait out <paramref name="delay"/>.</summary>
    public static string NameFor(TimeSpan delay) => $"modal-delay-{(long)Round(delay).TotalMilliseconds}";

    /// <summary>
    /// Sends <paramref name="message"/> to the queue of <paramref name="functionId"/> after <paramref name="delay"/>
    /// (at once when it is zero). Returns once the broker has it (publisher confirms), so the caller may acknowledge
    /// the input it is retrying.
    /// </summary>
    public async Task SendAsync<T>(ConsumeContext context, Guid functionId, T message, TimeSpan delay, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        var functionQueue = FunctionQueues.NameFor(functionId);
        if (Round(delay) == TimeSpan.Zero)
        {
            var queue = await context.GetSendEndpoint(new Uri($"queue:{functionQueue}"));
            await queue.Send(message, cancellationToken);
            return;
        }
        var name = NameFor(delay);
        await DeclareAsync(name, Round(delay), cancellationToken);
        // MassTransit declares the exchange again on its first send: durable fanout, as declared below, or the broker
        // refuses it (PRECONDITION_FAILED).
        var exchange = await context.GetSendEndpoint(new Uri($"exchange:{name}?type=fanout"));
        await exchange.Send(message, send => send.SetRoutingKey(functionQueue), cancellationToken);
    }

    /// <summary>Declares the delay's exchange, queue and binding once per runner (they are durable: a redeclare is a no-op).</summary>
    private async Task DeclareAsync(string name, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (_declared.ContainsKey(name))
        {
            return;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_declared.ContainsKey(name))
            {
                return;
            }
            if (_connection is not { IsOpen: true })
            {
                if (_connection is not null)
                {
                    await _connection.DisposeAsync();
                }
                var factory = new ConnectionFactory
                {
                    Uri = new Uri(configuration.GetRequiredConnectionString(MessageBusExtensions.ConnectionName)),
                    ClientProvidedName = "modal-runner-delay-queues",
                };
                _connection = await factory.CreateConnectionAsync(cancellationToken);
            }
            // A channel per declare: declares are rare, and a refused one closes its channel anyway.
            await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
            await channel.ExchangeDeclareAsync(name, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
            {
                ["x-message-ttl"] = checked((int)delay.TotalMilliseconds),
                // The default exchange, with each message's own routing key: its function's queue.
                ["x-dead-letter-exchange"] = "",
            }, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(name, name, routingKey: "", cancellationToken: cancellationToken);
            _declared[name] = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        _gate.Dispose();
    }
}
