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

    /// <summary>
    /// Deploys <paramref name="app"/> and runs <paramref name="function"/>'s inputs with the SDK's own executor (what a
    /// container's function server does), reporting the real outcomes: the whole call path except the container.
    /// </summary>
    public static async Task<TestRunnerBus> ExecutingAsync(string rabbitMqConnectionString, App app, string function)
    {
        var deployed = await app.DeployAsync();
        var definition = app.Functions.Single(f => f.Name == function);
        return await StartAsync(rabbitMqConnectionString, deployed.Functions.Single(f => f.Name == function).Id,
            input => ExecuteAsync(definition, input));
    }

    public ValueTask DisposeAsync() => new(_bus.StopAsync());

    private static async Task ExecuteAsync(FunctionDefinition definition, ConsumeContext<RunFunction> input)
    {
        var outcome = await FunctionExecutor.ExecuteAsync(definition, input.Message.ArgumentsJson);
        if (outcome.Succeeded)
        {
            await input.Publish(new FunctionCallSucceeded
            {
                FunctionCallId = input.Message.FunctionCallId, Attempt = input.Message.Attempt, ResultJson = outcome.ResultJson!,
                CompletedAt = DateTimeOffset.UtcNow,
            });
            return;
        }
        await input.Publish(new FunctionCallFailed
        {
            FunctionCallId = input.Message.FunctionCallId, Attempt = input.Message.Attempt,
            ExceptionType = outcome.Exception!.GetType().FullName!, Message = outcome.Exception.Message,
            StackTrace = outcome.Exception.StackTrace ?? "", WillRetry = false, FailedAt = DateTimeOffset.UtcNow,
        });
    }
}
