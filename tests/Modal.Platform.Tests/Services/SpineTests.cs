using ClassesExample;
using Modal.Api;
using Modal.Api.Contracts.Calls;
using Modal.Contracts.Containers;
using Modal.Deployment;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;
using Modal.Rest;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Storage, Api and a GpuRunner on the real infrastructure, with the example apps uploaded as bundles and run in real
/// container processes: SDK → Api → RabbitMQ → runner → container → result, as a user's call travels.
/// </summary>
public sealed class SpineFixture : IAsyncLifetime
{
    // A property, not a field, so CA1001 does not ask for IDisposable: IAsyncLifetime.DisposeAsync disposes it.
    private PlatformServices Platform { get; } = new("modal-runner-");

    public ServiceFactory<ApiOptions> Api => Platform.Api;
    public ServiceFactory<GpuRunnerOptions>? Runner { get; private set; }
    public ModalClient Client => Platform.Client;
    public string HelloWorld { get; private set; } = "";
    public string ErrorsAndRetries { get; private set; } = "";
    public string Classes { get; private set; } = "";
    public string Maps { get; private set; } = "";

    /// <summary>Where the examples leave markers of what ran inside containers ([Exit] hooks, cancels).</summary>
    public string Markers { get; } = WritableByAnyone(Directory.CreateTempSubdirectory("modal-markers-").FullName);

    /// <summary>The runner's cache and runtime folders live under here.</summary>
    public string RunnerRoot => Platform.Root;

    /// <summary>Isolated containers run as a uid of their own, which writes the markers (a test folder: no secret in it).</summary>
    private static string WritableByAnyone(string folder)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, (UnixFileMode)0x1ff);
        }
        return folder;
    }

    public async Task InitializeAsync()
    {
        Platform.Start();
        Runner = Platform.AddRunner($"spine-{Guid.NewGuid():N}"[..16], Platform.Root,
            ("GpuRunner:ContainerEnvironment:MODAL_EXAMPLE_MARKERS", Markers),
            // Isolated containers see no host folder unless the site binds it: the markers folder is the tests' window in.
            ($"GpuRunner:ContainerBinds:{Markers}", Markers),
            ("GpuRunner:SimulatedGpus:0", "A100-80GB"),
            ("GpuRunner:SimulatedGpus:1", "T4"));

        // Without the Scheduler nothing starts containers.
        Platform.StartScheduler(("Scheduler:ScalingInterval", "00:00:00.250"));
        HelloWorld = await DeployExampleAsync("HelloWorld");
        ErrorsAndRetries = await DeployExampleAsync("ErrorsAndRetries");
        Classes = await DeployExampleAsync("Classes");
        Maps = await DeployExampleAsync("Maps");
        _ = Runner.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await Platform.DisposeAsync();
        PlatformServices.DeleteFolder(Markers);
    }

    /// <summary>What `modal deploy` does with a built app: bundle, upload through the Api's blob proxy, register.</summary>
    public async Task<string> DeployExampleAsync(string example)
    {
        var deployment = await AppDeployer.DeployAsync(Client, Examples.OutputDirectory(example), $"{example}.dll");
        return deployment.App.Name;
    }
}

[Collection(InfrastructureTestGroup.Name)]
public sealed partial class SpineTests(SpineFixture spine) : IClassFixture<SpineFixture>
{
    [Fact]
    public async Task Deploy_Again_UploadsNothingAndKeepsTheBundle()
    {
        var again = await AppDeployer.DeployAsync(spine.Client, Examples.OutputDirectory("HelloWorld"), "HelloWorld.dll");

        Assert.Equal(0, again.UploadedBlobs);
        Assert.Equal(again.Bundle.Id, again.App.BundleId);
    }

    [Fact]
    public async Task RemoteAsync_HelloWorld_RunsInAContainerAndReturns()
    {
        var f = Function.FromName(spine.Client, spine.HelloWorld, "f");

        Assert.Equal(49, await f.RemoteAsync<int>(new { i = 7 }));
    }

    [Fact]
    public async Task SpawnAndGather_TwentyInputs_AllComplete()
    {
        var f = Function.FromName(spine.Client, spine.HelloWorld, "f");

        var calls = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => f.SpawnAsync<int>(new { i })));
        var results = await FunctionCall.GatherAsync(calls);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => i * i), results);
    }

    [Fact]
    public async Task RemoteAsync_FunctionThrows_CallerGetsRemoteTypeAndStack()
    {
        var divide = Function.FromName(spine.Client, spine.ErrorsAndRetries, "divide");

        var error = await Assert.ThrowsAsync<RemoteFunctionException>(() => divide.RemoteAsync<int>(new { a = 1, b = 0 }));

        Assert.Equal(typeof(DivideByZeroException).FullName, error.RemoteType);
        Assert.Contains("Divide", error.RemoteStackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoteAsync_FailsTwiceWithRetries2_SucceedsOnTheThirdAttempt()
    {
        var flaky = Function.FromName(spine.Client, spine.ErrorsAndRetries, "flaky");

        Assert.Equal("succeeded on attempt 3", await flaky.RemoteAsync<string>(new { caller = "test" }));
    }

    [Fact]
    public async Task RemoteAsync_PastItsTimeout_ThrowsFunctionTimeoutExceptionKillsTheContainerAndTheNextCallWorks()
    {
        await using var events = await BusEventRecorder.StartAsync<ContainerStarted, ContainerStopped>(
            Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq")!);
        var slow = Function.FromName(spine.Client, spine.ErrorsAndRetries, "slow");

        await Assert.ThrowsAsync<FunctionTimeoutException>(() => slow.RemoteAsync<int>(new { seconds = 30 }));
        Assert.Equal(0, await slow.RemoteAsync<int>(new { seconds = 0 }));

        var recorded = await Eventually.ReturnsAsync(() => Task.FromResult(events.Events.ToArray()),
            all => all.OfType<ContainerStopped>().Any(e => e.Reason == "TimedOut")
                && all.OfType<ContainerStarted>().Any(e => e.FunctionName == "slow"),
            "the timed-out container's stop and its replacement's start are published");
        var stopped = recorded.OfType<ContainerStopped>().First(e => e.Reason == "TimedOut");
        Assert.Contains(recorded.OfType<ContainerStarted>(), started => started.FunctionName == "slow" && started.ContainerId != stopped.ContainerId);
    }

    [Fact]
    public async Task Cls_MethodsRunOnOneInstanceEnteredOnce()
    {
        var model = Cls.FromName<Model>(spine.Client, spine.Classes);

        var generated = await model.RemoteAsync(m => m.Generate("hello"));
        var tokens = await model.RemoteAsync(m => m.CountTokensAsync("the quick brown fox"));
        var first = await model.RemoteAsync(m => m.Describe());
        var second = await model.RemoteAsync(m => m.Describe());

        Assert.Equal("hello → generated with weights-v1", generated); // [Enter] ran before the first input.
        Assert.Equal(4, tokens);
        Assert.Equal(first, second); // Same instance…
        Assert.EndsWith(":1", first, StringComparison.Ordinal); // …entered once.
    }

    [Fact]
    public async Task GetLogsAsync_FunctionPrints_EachCallHasItsOwnLinesWithTheirStreams()
    {
        var f = Function.FromName(spine.Client, spine.HelloWorld, "f");

        var even = await f.SpawnAsync<int>(new { i = 4 });
        var odd = await f.SpawnAsync<int>(new { i = 3 });
        await FunctionCall.GatherAsync(even, odd);

        var evenLines = await Eventually.ReturnsAsync(() => even.GetLogsAsync(), lines => lines.Count > 0, "the even call's log arrives");
        var oddLines = await Eventually.ReturnsAsync(() => odd.GetLogsAsync(), lines => lines.Count > 0, "the odd call's log arrives");
        var evenLine = Assert.Single(evenLines);
        Assert.Equal(("stdout", "hello 4", 1), (evenLine.Stream, evenLine.Text, evenLine.Attempt));
        var oddLine = Assert.Single(oddLines);
        Assert.Equal(("stderr", "world 3"), (oddLine.Stream, oddLine.Text));
    }

    [Fact]
    public async Task CancelAsync_RunningCall_ReachesTheFunctionsCancellationToken()
    {
        var cancellable = Function.FromName(spine.Client, spine.ErrorsAndRetries, "cancellable");
        var call = await cancellable.SpawnAsync<string>(new { seconds = 600 });
        await Eventually.ReturnsAsync(() => spine.Client.Apps.GetCallAsync(call.Id), info => info.State == "Running", "the call starts running");

        await call.CancelAsync();

        await Assert.ThrowsAsync<FunctionCallCancelledException>(() => call.GetAsync());
        await Eventually.ReturnsAsync(() => Task.FromResult(File.Exists(Path.Combine(spine.Markers, $"cancelled-{call.Id}"))), seen => seen,
            "the function sees its cancellation token fire");
    }

    [Fact]
    public async Task CancelAsync_TerminateContainers_StopsTheContainer()
    {
        await using var events = await BusEventRecorder.StartAsync<ContainerStarted, ContainerStopped>(
            Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq")!);
        var cancellable = Function.FromName(spine.Client, spine.ErrorsAndRetries, "cancellable");
        var call = await cancellable.SpawnAsync<string>(new { seconds = 600 });
        await Eventually.ReturnsAsync(() => spine.Client.Apps.GetCallAsync(call.Id), info => info.State == "Running", "the call starts running");

        await call.CancelAsync(terminateContainers: true);

        await Eventually.ReturnsAsync(() => Task.FromResult(events.Events.OfType<ContainerStopped>().ToArray()),
            stopped => stopped.Any(e => e.Reason == "Cancelled"), "the cancelled call's container is stopped");
        Assert.Equal("finished", await cancellable.RemoteAsync<string>(new { seconds = 0 })); // A new container serves the next call.
    }

    [Fact]
    public async Task StopApp_RunsExitHooksStopsContainers_AndARedeployServesAgain()
    {
        await using var events = await BusEventRecorder.StartAsync<ContainerStarted, ContainerStopped>(
            Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq")!);
        var model = Cls.FromName<Model>(spine.Client, spine.Classes);
        var instance = (await model.RemoteAsync(m => m.Describe())).Split(':')[0];

        await spine.Client.Apps.StopAsync(spine.Classes);
        try
        {
            await Eventually.ReturnsAsync(() => Task.FromResult(File.Exists(Path.Combine(spine.Markers, $"exit-{instance}"))), seen => seen,
                "the stopped app's container runs its [Exit] hook");
            // The stop is announced once the container has exited, a moment after its [Exit] hook wrote the marker.
            await Eventually.ReturnsAsync(() => Task.FromResult(events.Events.OfType<ContainerStopped>().ToArray()),
                stopped => stopped.Any(e => e.Reason == "AppStopped"), "the container's stop is published with its reason");
            var refused = await Assert.ThrowsAnyAsync<Refit.ApiException>(() => model.RemoteAsync(m => m.Describe()));
            Assert.Equal(System.Net.HttpStatusCode.NotFound, refused.StatusCode);
        }
        finally
        {
            // Other tests of this class use the app.
            await spine.DeployExampleAsync("Classes");
        }
        var again = (await model.RemoteAsync(m => m.Describe())).Split(':')[0];
        Assert.NotEqual(instance, again);
    }

    [Fact]
    public async Task RemoteAsync_FiveMiBArgumentAndResult_TravelAsBlobsAndRoundTrip()
    {
        var data = System.Security.Cryptography.RandomNumberGenerator.GetBytes(5 * 1024 * 1024);
        var reverse = Function.FromName(spine.Client, spine.HelloWorld, "reverse");

        var call = await reverse.SpawnAsync<byte[]>(new { data });
        var reversed = await call.GetAsync();

        Assert.Equal(data.Reverse().ToArray(), reversed);
        Assert.NotNull((await spine.Client.Apps.GetCallAsync(call.Id)).ResultBlob); // Not inlined in the call's state.
    }

    [Fact]
    public async Task Call_ArgumentsBlobNotUploaded_Returns400SayingToUploadIt()
    {
        var missing = new string('0', 64);

        var error = await Assert.ThrowsAnyAsync<Refit.ApiException>(() =>
            spine.Client.Apps.CreateCallAsync(spine.HelloWorld, "reverse", new CreateCallRequest { ArgumentsBlob = missing }));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains($"PUT /v1/blobs/{missing}", error.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Container_SeesOnlyTheGpusItHolds()
    {
        var withGpu = await Function.FromName(spine.Client, spine.HelloWorld, "visible_gpus").RemoteAsync<string>(new { });
        var without = await Function.FromName(spine.Client, spine.HelloWorld, "visible_gpus_none").RemoteAsync<string>(new { });

        Assert.Equal("1", withGpu); // The runner's T4 is device 1; device 0 (an A100) is not visible.
        Assert.Equal("", without);
    }

    [Fact]
    public async Task Function_UsesAQueueFromInsideItsContainer_TheCallerReadsIt()
    {
        var queueName = $"produced-{Guid.NewGuid():N}"[..24];

        var produced = await Function.FromName(spine.Client, spine.HelloWorld, "produce").RemoteAsync<int>(new { queue = queueName, count = 3 });

        var queue = Queue.FromName(spine.Client, queueName);
        var items = new List<int>();
        for (var i = 0; i < produced; i++)
        {
            items.Add(await queue.GetAsync<int>());
        }
        Assert.Equal([0, 1, 2], items);
    }

    [Fact]
    public async Task Container_DoesNotInheritTheRunnersEnvironment()
    {
        var leaked = await Function.FromName(spine.Client, spine.HelloWorld, "env").RemoteAsync<string?>(new { name = "ConnectionStrings__rabbitmq" });

        Assert.Null(leaked); // The runner's broker credentials stay with the runner.
        Assert.NotNull(Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq")); // …which does have them.
    }

    [Fact]
    public async Task AppLogs_LinesOfEveryCall_CanBeFollowedPerApp()
    {
        var before = await spine.Client.Apps.GetLogsAsync(spine.HelloWorld);
        var f = Function.FromName(spine.Client, spine.HelloWorld, "f");

        await f.RemoteAsync<int>(new { i = 1006 });
        await f.RemoteAsync<int>(new { i = 1007 });

        var lines = await Eventually.ReturnsAsync(
            async () => (await spine.Client.Apps.GetLogsAsync(spine.HelloWorld, before.Next, timeout: 5)).Lines,
            page => page.Count >= 2, "both calls' lines reach the app's log");
        Assert.Equal([("f", "stdout", "hello 1006"), ("f", "stderr", "world 1007")], lines.Select(l => (l.Function, l.Stream, l.Text)));
        Assert.NotEqual(lines[0].FunctionCallId, lines[1].FunctionCallId);
    }
}
