using Modal.Contracts.Calls;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Modal.Scheduler.Infrastructure;

/// <summary>
/// The Scheduler's direct line to functions' queues on the broker: the exact number of inputs waiting, by a passive
/// queue declare (the management API's figures lag 3–7 s, too slow for a one-second scaling loop), and deleting the
/// queues of stopped apps. One connection and channel, used by the loop.
/// </summary>
public sealed class FunctionQueueBroker(IConfiguration configuration) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;
    private IChannel? _channel;

    /// <summary>Messages ready in the queue of <paramref name="functionId"/>; 0 when the queue does not exist yet.</summary>
    public async Task<int> ReadyAsync(Guid functionId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var channel = await ChannelAsync(cancellationToken);
            try
            {
                var declared = await channel.QueueDeclarePassiveAsync(FunctionQueues.NameFor(functionId), cancellationToken);
                return checked((int)declared.MessageCount);
            }
            catch (OperationInterruptedException e) when (e.ShutdownReason?.ReplyCode == 404)
            {
                // No input was ever sent to it. The broker closed the channel for asking; the next call opens another.
                return 0;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Deletes the queue of <paramref name="functionId"/> with what it still holds; returns that count (0 when it was gone).</summary>
    public async Task<uint> DeleteAsync(Guid functionId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var channel = await ChannelAsync(cancellationToken);
            // Deleting a queue that is not there succeeds on RabbitMQ (3.x), so a second Scheduler's delete is harmless.
            return await channel.QueueDeleteAsync(FunctionQueues.NameFor(functionId), ifUnused: false, ifEmpty: false, cancellationToken: cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IChannel> ChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } open)
        {
            return open;
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
                ClientProvidedName = "modal-scheduler-queue-depths",
            };
            _connection = await factory.CreateConnectionAsync(cancellationToken);
        }
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
        }
        _channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        return _channel;
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        _gate.Dispose();
    }
}
