using System.Net;
using System.Net.Sockets;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// A TCP relay on loopback to a server's port that a test can partition: while partitioned it forwards nothing either
/// way and keeps every connection open, as a network that silently drops packets does (no reset for the client to see).
/// </summary>
internal sealed class PartitionableProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _connections = [];
    private readonly Task _accepting;
    private TaskCompletionSource _healed = NewHealed(healed: true);

    public PartitionableProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public void Partition() => Volatile.Write(ref _healed, NewHealed(healed: false));

    public void Heal() => Volatile.Read(ref _healed).TrySetResult();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var server = new TcpClient();
        lock (_connections)
        {
            _connections.Add(client);
            _connections.Add(server);
        }
        try
        {
            await WhileHealedAsync();
            await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            await Task.WhenAny(PumpAsync(client.GetStream(), server.GetStream()), PumpAsync(server.GetStream(), client.GetStream()));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A side closed, or the proxy stops.
        }
        finally
        {
            client.Dispose();
            server.Dispose();
        }
    }

    private async Task PumpAsync(Stream from, Stream to)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReadAsync(buffer, _stop.Token);
            if (read == 0)
            {
                return;
            }
            await WhileHealedAsync(); // What arrives during a partition is held, not delivered.
            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    private Task WhileHealedAsync() => Volatile.Read(ref _healed).Task.WaitAsync(_stop.Token);

    private static TaskCompletionSource NewHealed(bool healed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (healed)
        {
            source.SetResult();
        }
        return source;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }
        }
        _stop.Dispose();
    }
}
