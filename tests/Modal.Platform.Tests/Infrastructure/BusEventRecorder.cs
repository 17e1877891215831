using System.Collections.Concurrent;
using MassTransit;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>Records every published event of the given types on the real broker, from a queue of its own.</summary>
internal sealed class BusEventRecorder : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private BusEventRecorder(IBusControl bus) => _bus = bus;

    public ConcurrentQueue<object> Events { get; } = new();

    public static async Task<BusEventRecorder> StartAsync<T1, T2>(string rabbitMqConnectionString) where T1 : class where T2 : class
    {
        BusEventRecorder? recorder = null;
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(new Uri(rabbitMqConnectionString));
            rabbit.ReceiveEndpoint($"test-events-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.Handler<T1>(context => Record(context.Message));
                endpoint.Handler<T2>(context => Record(context.Message));
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
