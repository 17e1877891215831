using Modal.Contracts.Calls;
using Modal.GpuRunner.Infrastructure;
using Modal.Platform.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// A retry's backoff holds no capacity (issue 16): examples/ErrorsAndRetries' <c>fail_once</c> has one container taking
/// one input at a time and retries 20 s after a failure; another input must run in that container meanwhile. Before,
/// the waiting input kept the function's only place in flight, so the other one ran only once the backoff was over.
/// </summary>
public sealed partial class SpineTests
{
    private static readonly TimeSpan FailOnceRetryDelay = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RemoteAsync_FirstAttemptFailsWithALongBackoff_AnotherCallCompletesWhileTheRetryWaits_ThenTheRetrySucceeds()
    {
        var rabbitMq = Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq")!;
        await using var events = await BusEventRecorder.StartAsync<FunctionCallFailed, FunctionCallSucceeded>(rabbitMq);
        var failOnce = Function.FromName(spine.Client, spine.ErrorsAndRetries, "fail_once");
        var key = $"fail-{Guid.NewGuid():N}";

        var retried = await failOnce.SpawnAsync<string>(new { key });
        var other = await failOnce.SpawnAsync<string>(new { key = "pass" });
        await Eventually.ReturnsAsync(
            () => Task.FromResult(events.Events.OfType<FunctionCallFailed>().Any(e => e.FunctionCallId == retried.Id && e.WillRetry)),
            failed => failed, "the first attempt fails and is to be retried");

        // Ordering, not speed: the other call must finish while the retry still waits out its backoff. Half the
        // backoff leaves 10 s either way; before, the other call could not even start until the backoff was over.
        var otherResult = other.GetAsync();
        var halfTheBackoff = Task.Delay(FailOnceRetryDelay / 2);
        Assert.Same(otherResult, await Task.WhenAny(otherResult, halfTheBackoff));
        Assert.Equal("pass", await otherResult);

        // Meanwhile the retry waits on the broker, in its delay's queue, and the Api shows the call as running (as it
        // did while a runner held the retry).
        Assert.InRange(await MessagesInAsync(rabbitMq, DelayQueues.NameFor(FailOnceRetryDelay)), 1u, uint.MaxValue);
        Assert.Equal("Running", (await spine.Client.Apps.GetCallAsync(retried.Id)).State);

        Assert.Equal(key, await retried.GetAsync(TimeSpan.FromMinutes(2)));
        var succeeded = events.Events.OfType<FunctionCallSucceeded>().Where(e => e.FunctionCallId == retried.Id).ToArray();
        Assert.Equal(2, Assert.Single(succeeded).Attempt); // The retry's next attempt is the one that succeeded.
    }

    [Fact]
    public async Task MapAsync_InputFailsWithALongBackoff_ACallCompletesWhileItWaits_ThenTheInputSucceeds()
    {
        var failOnce = new App(spine.ErrorsAndRetries) { Client = spine.Client }.Function("fail_once", (string key) => key);
        var key = $"fail-{Guid.NewGuid():N}";

        var map = await failOnce.SpawnMapAsync([key, "pass-1", "pass-2"]);
        // The inputs run one at a time, the failing one first (oldest first); once the others have their outputs, the
        // failed one is on its way back to the queue.
        await Eventually.ReturnsAsync(() => map.GetProgressAsync(), progress => progress.Outputs >= 2, "the inputs that pass have their outputs");
        var call = await failOnce.SpawnAsync("pass-call");

        var callResult = call.GetAsync();
        var halfTheBackoff = Task.Delay(FailOnceRetryDelay / 2);
        Assert.Same(callResult, await Task.WhenAny(callResult, halfTheBackoff));
        Assert.Equal("pass-call", await callResult);
        Assert.False((await map.GetProgressAsync()).Finished); // The failed input still waits for its retry.

        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var outputs = await map.GetOutputsAsync(deadline.Token).ToListAsync(deadline.Token);
        Assert.Equal([key, "pass-1", "pass-2"], outputs.OrderBy(o => o.Index).Select(o => o.Value));
    }

    /// <summary>Messages ready in <paramref name="queue"/>, exactly (a passive declare; the management API lags).</summary>
    private static async Task<uint> MessagesInAsync(string rabbitMq, string queue)
    {
        var factory = new ConnectionFactory { Uri = new Uri(rabbitMq) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }
}
