using Modal.Contracts.Calls;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Modal.Scheduler.Infrastructure;

/// <summary>
/// Exact number of inputs waiting in a function's queue, by a passive queue declare on the broker (the management
/// API's figures lag 3–7 s, too slow for a one-second scaling loop). One connection and channel, used by the loop only.
/// </summary>
public sealed class QueueDepths(IConfiguration configuration) : IAsyncDisposable
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
