using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Modal.Api;
using Modal.Api.Calls;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Calls;
using Modal.Api.Endpoints;
using Modal.Contracts.Calls;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>The Api half of the invocation spine on real PostgreSQL, Redis and RabbitMQ, with a test bus as the runner.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class CallTests(InfrastructureFixture infrastructure)
{
    private static readonly object SquareManifest = new
    {
        name = "square",
        parameters = new[] { new { name = "x", type = "System.Int32" } },
        resultType = "System.Int32",
        timeoutSeconds = 30,
    };

    private static readonly object GreetManifest = new
    {
        name = "greet",
        parameters = new[] { new { name = "name", type = "System.String" } },
        resultType = "System.String",
        timeoutSeconds = 30,
    };

    [Fact]
    public async Task Deploy_AgainWithANewFunction_AddsItAndKeepsTheOthers()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();

        var first = await DeployAsync(client, app, SquareManifest);
        var second = await DeployAsync(client, app, SquareManifest, GreetManifest);

        Assert.Equal(first.Functions.Single().Id, second.Functions.Single(f => f.Name == "square").Id);
        using var added = await client.GetAsync(new Uri($"/v1/apps/{app}/functions/greet", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
    }

    [Fact]
    public async Task Deploy_Twice_KeepsFunctionIdsAndDropsUnlistedFunctions()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();

        var first = await DeployAsync(client, app, SquareManifest, GreetManifest);
        var second = await DeployAsync(client, app, SquareManifest);

        Assert.Equal(first.Functions.Single(f => f.Name == "square").Id, Assert.Single(second.Functions).Id);
        using var gone = await client.GetAsync(new Uri($"/v1/apps/{app}/functions/greet", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Contains("no function named 'greet'", await gone.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_InvalidFunctionName_Returns400NamingTheField()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);

        using var response = await client.PutAsJsonAsync(new Uri($"/v1/apps/{UniqueAppName()}", UriKind.Relative),
            new { functions = new[] { new { name = "Bad Name", parameters = Array.Empty<object>(), resultType = "System.Int32" } } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("functions[0].name", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_UnknownGpuType_Returns400NamingTheFunctionAndTheTypesThatExist()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);

        using var response = await client.PutAsJsonAsync(new Uri($"/v1/apps/{UniqueAppName()}", UriKind.Relative),
            new { functions = new[] { new { name = "train", parameters = Array.Empty<object>(), resultType = "System.Int32", gpu = "V100:2" } } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadAsStringAsync();
        Assert.Contains("functions[0].gpu", problem, StringComparison.Ordinal);
        Assert.Contains("train: GPU type 'V100' is unknown", problem, StringComparison.Ordinal);
        Assert.Contains("H100", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_MemoryOrCpuOutOfBounds_Returns400NamingTheFunction()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);

        using var memory = await client.PutAsJsonAsync(new Uri($"/v1/apps/{UniqueAppName()}", UriKind.Relative),
            new { functions = new[] { new { name = "big", parameters = Array.Empty<object>(), resultType = "System.Int32", memoryMiB = 0 } } });
        using var cpu = await client.PutAsJsonAsync(new Uri($"/v1/apps/{UniqueAppName()}", UriKind.Relative),
            new { functions = new[] { new { name = "busy", parameters = Array.Empty<object>(), resultType = "System.Int32", cpu = 65.0 } } });

        Assert.Equal(HttpStatusCode.BadRequest, memory.StatusCode);
        Assert.Contains("big: cpu must be more than 0", await memory.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, cpu.StatusCode);
        Assert.Contains("busy: cpu must be more than 0 and at most 64 (was 65)", await cpu.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_RunnerSucceeds_LongPollReturnsResult()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();
        var function = (await DeployAsync(client, app, SquareManifest)).Functions.Single();
        var received = Channel.CreateUnbounded<RunFunction>();
        await using var runner = await TestRunnerBus.StartAsync(infrastructure.RabbitMqConnectionString, function.Id, async input =>
        {
            await received.Writer.WriteAsync(input.Message);
            var x = JsonDocument.Parse(input.Message.ArgumentsJson).RootElement.GetProperty("x").GetInt32();
            await input.Publish(new FunctionCallSucceeded
            {
                FunctionCallId = input.Message.FunctionCallId, Attempt = input.Message.Attempt, ResultJson = $"{x * x}", CompletedAt = DateTimeOffset.UtcNow,
            });
        });

        var callId = await CallAsync(client, app, "square", new { x = 7 });
        var call = await WaitForEndAsync(client, callId);

        Assert.Equal(CallStates.Succeeded, call.State);
        Assert.Equal(49, call.Result!.Value.GetInt32());
        var input = await received.Reader.ReadAsync();
        Assert.Equal(callId, input.FunctionCallId);
        Assert.Equal(1, input.Attempt);
        Assert.Equal(TimeSpan.FromSeconds(30), input.Timeout);
        Assert.Equal(7, JsonDocument.Parse(input.ArgumentsJson).RootElement.GetProperty("x").GetInt32());
    }

    [Fact]
    public async Task Call_RunnerFailsWithRetryThenFailsFinally_ReturnsTheRemoteError()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();
        var function = (await DeployAsync(client, app, GreetManifest)).Functions.Single();
        await using var runner = await TestRunnerBus.StartAsync(infrastructure.RabbitMqConnectionString, function.Id, async input =>
        {
            foreach (var (attempt, willRetry) in new[] { (1, true), (2, false) })
            {
                await input.Publish(new FunctionCallFailed
                {
                    FunctionCallId = input.Message.FunctionCallId, Attempt = attempt, ExceptionType = "System.InvalidOperationException",
                    Message = $"attempt {attempt} failed", StackTrace = "   at Greeter.Greet(String name)", WillRetry = willRetry,
                    FailedAt = DateTimeOffset.UtcNow,
                });
            }
        });

        var call = await WaitForEndAsync(client, await CallAsync(client, app, "greet", new { name = "Ada" }));

        Assert.Equal(CallStates.Failed, call.State);
        Assert.Equal("System.InvalidOperationException", call.Error!.Type);
        Assert.Equal("attempt 2 failed", call.Error.Message);
        Assert.Contains("Greeter.Greet", call.Error.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetCall_NoRunnerAndTimeoutZero_Returns202Queued()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();
        await DeployAsync(client, app, SquareManifest);

        var callId = await CallAsync(client, app, "square", new { x = 1 });
        using var response = await client.GetAsync(new Uri($"/v1/calls/{callId}?timeout=0", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(CallStates.Queued, (await response.Content.ReadFromJsonAsync<CallInfo>())!.State);
    }

    [Fact]
    public async Task Cancel_QueuedCall_IsCancelledAndALaterResultIsIgnored()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();
        await DeployAsync(client, app, SquareManifest);
        var callId = await CallAsync(client, app, "square", new { x = 3 });

        using var cancelled = await client.DeleteAsync(new Uri($"/v1/calls/{callId}", UriKind.Relative));
        var calls = api.Services.GetRequiredService<CallStore>();
        var lateResultRecorded = await calls.CompleteAsync(callId, CallStates.Succeeded, resultJson: "9");

        Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        Assert.False(lateResultRecorded);
        Assert.Equal(CallStates.Cancelled, (await WaitForEndAsync(client, callId)).State);
    }

    [Fact]
    public async Task CompleteAsync_Twice_FirstTerminalResultWins()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        _ = api.CreateClient();
        var calls = api.Services.GetRequiredService<CallStore>();
        var callId = $"fc-test-{Guid.NewGuid():N}";
        await calls.CreateAsync(callId, Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow);

        var first = await calls.CompleteAsync(callId, CallStates.Succeeded, resultJson: "1");
        var second = await calls.CompleteAsync(callId, CallStates.Succeeded, resultJson: "2");
        var timedOut = await calls.CompleteAsync(callId, CallStates.TimedOut);

        Assert.True(first);
        Assert.False(second);
        Assert.False(timedOut);
        Assert.Equal("1", (await calls.GetAsync(callId))!.ResultJson);
    }

    [Theory]
    [InlineData("""{}""", "x")]
    [InlineData("""{"x": "seven"}""", "x")]
    [InlineData("""{"x": 7, "y": 1}""", "y")]
    public async Task Call_ArgumentsDoNotBind_Returns400NamingTheParameter(string arguments, string parameter)
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();
        await DeployAsync(client, app, SquareManifest);

        using var response = await client.PostAsync(new Uri($"/v1/apps/{app}/functions/square/calls", UriKind.Relative),
            new StringContent($$"""{"arguments": {{arguments}}}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(parameter, out _));
    }

    [Fact]
    public async Task Call_UnknownAppOrFunction_Returns404NamingIt()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();
        await DeployAsync(client, app, SquareManifest);

        using var noApp = await client.PostAsJsonAsync(new Uri("/v1/apps/no-such-app/functions/square/calls", UriKind.Relative), new { arguments = new { x = 1 } });
        using var noFunction = await client.PostAsJsonAsync(new Uri($"/v1/apps/{app}/functions/cube/calls", UriKind.Relative), new { arguments = new { x = 1 } });

        Assert.Equal(HttpStatusCode.NotFound, noApp.StatusCode);
        Assert.Contains("no-such-app", await noApp.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, noFunction.StatusCode);
        Assert.Contains("'cube'", await noFunction.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_InlineArgumentsOver2MiB_Returns413PointingToBlobs()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();
        await DeployAsync(client, app, GreetManifest);

        using var response = await client.PostAsJsonAsync(new Uri($"/v1/apps/{app}/functions/greet/calls", UriKind.Relative),
            new { arguments = new { name = new string('a', (2 * 1024 * 1024) + 1) } });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("argumentsBlob", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Call_ArgumentsBlobThatIsNotAHash_Returns400()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = infrastructure.AuthenticatedClient(api);
        var app = UniqueAppName();
        await DeployAsync(client, app, GreetManifest);

        using var response = await client.PostAsJsonAsync(new Uri($"/v1/apps/{app}/functions/greet/calls", UriKind.Relative),
            new { argumentsBlob = "../etc/passwd" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not a blob id", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static string UniqueAppName() => $"spine-{Guid.NewGuid():N}"[..20];

    private static async Task<DeployedAppInfo> DeployAsync(HttpClient client, string app, params object[] functions)
    {
        using var response = await client.PutAsJsonAsync(new Uri($"/v1/apps/{app}", UriKind.Relative), new { functions });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<DeployedAppInfo>())!;
    }

    private static async Task<string> CallAsync(HttpClient client, string app, string function, object arguments)
    {
        using var response = await client.PostAsJsonAsync(new Uri($"/v1/apps/{app}/functions/{function}/calls", UriKind.Relative), new { arguments });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CallInfo>())!.FunctionCallId;
    }

    private static async Task<CallInfo> WaitForEndAsync(HttpClient client, string callId)
    {
        using var response = await client.GetAsync(new Uri($"/v1/calls/{callId}?timeout=30", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CallInfo>())!;
    }

}
