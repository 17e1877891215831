using System.Collections.Concurrent;
using MassTransit;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>Records every published event of the given types on the real broker, from a queue of its own.</summary>
internal sealed class BusEventRecorder : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private BusEventRecorder(IBusControl bus) => _bus = bus;

    public ConcurrentQueue<object> Events { get; } = new();

    public static Task<BusEventRecorder> StartAsync<T1, T2>(string rabbitMqConnectionString) where T1 : class where T2 : class =>
        StartAsync(rabbitMqConnectionString, (endpoint, record) =>
        {
            endpoint.Handler<T1>(context => record(context.Message));
            endpoint.Handler<T2>(context => record(context.Message));
        });

    public static Task<BusEventRecorder> StartAsync<T1, T2, T3, T4>(string rabbitMqConnectionString)
        where T1 : class where T2 : class where T3 : class where T4 : class =>
        StartAsync(rabbitMqConnectionString, (endpoint, record) =>
        {
            endpoint.Handler<T1>(context => record(context.Message));
            endpoint.Handler<T2>(context => record(context.Message));
            endpoint.Handler<T3>(context => record(context.Message));
            endpoint.Handler<T4>(context => record(context.Message));
        });

    public static Task<BusEventRecorder> StartAsync<T1, T2, T3, T4, T5>(string rabbitMqConnectionString)
        where T1 : class where T2 : class where T3 : class where T4 : class where T5 : class =>
        StartAsync(rabbitMqConnectionString, (endpoint, record) =>
        {
            endpoint.Handler<T1>(context => record(context.Message));
            endpoint.Handler<T2>(context => record(context.Message));
            endpoint.Handler<T3>(context => record(context.Message));
            endpoint.Handler<T4>(context => record(context.Message));
            endpoint.Handler<T5>(context => record(context.Message));
        });

    /// <summary>Sends a command as a service would (e.g. a container command straight to a runner).</summary>
    public async Task SendAsync<T>(Uri address, T message) where T : class
    {
        var endpoint = await _bus.GetSendEndpoint(address);
        await endpoint.Send(message);
    }

    private static async Task<BusEventRecorder> StartAsync(
        string rabbitMqConnectionString, Action<IRabbitMqReceiveEndpointConfigurator, Func<object, Task>> handlers)
    {
        BusEventRecorder? recorder = null;
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(new Uri(rabbitMqConnectionString));
            rabbit.ReceiveEndpoint($"test-events-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                handlers(endpoint, Record);
            });
        });
        recorder = new BusEventRecorder(bus);
        await bus.StartAsync();
        return recorder;

        Task Record(object message)
        {
            recorder!.Events.Enqueue(message);
            return Task.CompletedTask;
        }
    }

    public ValueTask DisposeAsync() => new(_bus.StopAsync());
}
