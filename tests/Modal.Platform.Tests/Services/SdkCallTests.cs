using MassTransit;
using Modal.Api;
using Modal.Contracts.Calls;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// The SDK's remote calls against the real Api and broker. The "runner" here executes the SDK's own function
/// definitions in the test process (the same executor the container's function server uses), so the whole
/// SDK → Api → RabbitMQ → execution → Redis → SDK path is real except the container itself.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class SdkCallTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task RemoteAsync_TypedFunction_ReturnsTheRemoteResult()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var app = NewApp(api);
        var add = app.Function("add", (int a, int b) => a + b);
        await using var runner = await ExecutingRunnerAsync(app, "add");

        Assert.Equal(5, await add.RemoteAsync(2, 3));
    }

    [Fact]
    public async Task SpawnAsync_ThenGatherAsync_ReturnsResultsInOrder()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var app = NewApp(api);
        var square = app.Function("square", async (int x) => { await Task.Delay(10 * (5 - x)); return x * x; });
        await using var runner = await ExecutingRunnerAsync(app, "square");

        var calls = await Task.WhenAll(Enumerable.Range(1, 4).Select(x => square.SpawnAsync(x)));
        var results = await FunctionCall.GatherAsync(calls);

        Assert.Equal([1, 4, 9, 16], results);
        Assert.Equal(9, await FunctionCall.FromId<int>(app.Client, calls[2].Id).GetAsync());
    }

    [Fact]
    public async Task RemoteAsync_FunctionThrows_RemoteFunctionExceptionCarriesTypeMessageAndStack()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var app = NewApp(api);
        var divide = app.Function("divide", (int a, int b) => Divide(a, b));
        await using var runner = await ExecutingRunnerAsync(app, "divide");

        var error = await Assert.ThrowsAsync<RemoteFunctionException>(() => divide.RemoteAsync(1, 0));

        Assert.Equal(typeof(DivideByZeroException).FullName, error.RemoteType);
        Assert.Contains(nameof(Divide), error.RemoteStackTrace, StringComparison.Ordinal);
        Assert.Contains(nameof(Divide), error.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_ZeroTimeoutWhileQueued_ThrowsTimeoutException_ThenCancelMakesItCancelled()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var app = NewApp(api);
        var idle = app.Function("idle", () => 1);
        await app.DeployAsync();

        var call = await idle.SpawnAsync();
        await Assert.ThrowsAsync<TimeoutException>(() => call.GetAsync(TimeSpan.Zero));
        await call.CancelAsync();

        await Assert.ThrowsAsync<FunctionCallCancelledException>(() => call.GetAsync());
    }

    [Fact]
    public async Task RemoteAsync_RunnerReportsTimeout_ThrowsFunctionTimeoutException()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var app = NewApp(api);
        var slow = app.Function("slow", () => 1, new FunctionOptions { Timeout = TimeSpan.FromSeconds(1) });
        var deployed = await app.DeployAsync();
        await using var runner = await TestRunnerBus.StartAsync(infrastructure.RabbitMqConnectionString, deployed.Functions.Single().Id,
            input => input.Publish(new FunctionCallTimedOut
            {
                FunctionCallId = input.Message.FunctionCallId, Attempt = 1, Timeout = input.Message.Timeout, WillRetry = false,
                TimedOutAt = DateTimeOffset.UtcNow,
            }));

        var error = await Assert.ThrowsAsync<FunctionTimeoutException>(() => slow.RemoteAsync());

        Assert.Contains("1 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromName_DeployedFunction_CallsItWithNamedArguments()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var app = NewApp(api);
        app.Function("greet", (string name, int times) => string.Concat(Enumerable.Repeat($"hi {name} ", times)).Trim());
        await using var runner = await ExecutingRunnerAsync(app, "greet");

        var greet = Function.FromName(app.Client, app.Name, "greet");

        Assert.Equal("hi Ada hi Ada", await greet.RemoteAsync<string>(new { name = "Ada", times = 2 }));
    }

    private App NewApp(ServiceFactory<ApiOptions> api) =>
        new($"sdk-{Guid.NewGuid():N}"[..20]) { Client = new ModalClient(infrastructure.AuthenticatedClient(api)) };

    private Task<TestRunnerBus> ExecutingRunnerAsync(App app, string function) =>
        TestRunnerBus.ExecutingAsync(infrastructure.RabbitMqConnectionString, app, function);

    private static int Divide(int a, int b) => a / b;
}
