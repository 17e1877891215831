using MassTransit;
using Modal.Contracts.Calls;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Stands in for a GpuRunner on the real broker: consumes a function's <see cref="RunFunction"/> queue and answers with
/// whatever events the test decides. Lets the Api half of the spine be tested before runners execute code.
/// </summary>
internal sealed class TestRunnerBus : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private TestRunnerBus(IBusControl bus) => _bus = bus;

    public static async Task<TestRunnerBus> StartAsync(
        string rabbitMqConnectionString, Guid functionId, Func<ConsumeContext<RunFunction>, Task> onInput)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(new Uri(rabbitMqConnectionString));
            rabbit.ReceiveEndpoint(FunctionQueues.NameFor(functionId), endpoint => endpoint.Handler<RunFunction>(context => onInput(context)));
        });
        await bus.StartAsync();
        return new TestRunnerBus(bus);
    }

    public ValueTask DisposeAsync() => new(_bus.StopAsync());
}
