using Microsoft.Extensions.DependencyInjection;
using Modal.Contracts.Containers;
using Modal.Contracts.Runners;
using Modal.Deployment;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Storage, Api, the Scheduler and three runners with different simulated GPUs on the real infrastructure, with
/// examples/Autoscaling deployed: the Scheduler starts and stops real container processes on the runners it chooses.
/// </summary>
public sealed class AutoscalingFixture : IAsyncLifetime
{
    /// <summary>Two H100s.</summary>
    public const string HopperRunner = "scale-hopper";

    /// <summary>Two A100-80GBs and a T4 (the cluster's only one).</summary>
    public const string AmpereRunner = "scale-ampere";

    /// <summary>One L4; nothing in the example asks for it.</summary>
    public const string SpareRunner = "scale-spare";

    // A property, not a field, so CA1001 does not ask for IDisposable: IAsyncLifetime.DisposeAsync disposes it.
    private PlatformServices Platform { get; } = new("modal-scale-");

    public IReadOnlyList<ServiceFactory<GpuRunnerOptions>> Runners => Platform.Runners;
    public ModalClient Client => Platform.Client;
    public DeploymentResult Deployment { get; private set; } = null!;
    internal BusEventRecorder Events { get; private set; } = null!;

    public Guid FunctionId(string name) => Deployment.App.Functions.Single(f => f.Name == name).Id;

    /// <summary>A runner of a test's own with <paramref name="gpus"/>, not started; the test disposes it.</summary>
    public ServiceFactory<GpuRunnerOptions> NewRunner(string runnerId, params string[] gpus) => Platform.NewRunner(runnerId, Path.Combine(Platform.Root, runnerId),
    [
        ("GpuRunner:HeartbeatInterval", "00:00:00.250"),
        .. gpus.Select((type, index) => ($"GpuRunner:SimulatedGpus:{index}", type)),
    ]);

    public async Task InitializeAsync()
    {
        var rabbitMq = Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq")!;
        Events = await BusEventRecorder.StartAsync<ContainerStarted, ContainerStopped, ContainerStartFailed, RunnerCapacityReported>(rabbitMq);
        Platform.Start();

        // A GPU type counts as present for 3 s after its runner's last heartbeat (1 min by default), so a call for one
        // that no runner has fails 3 s after the Scheduler started at the latest.
        Platform.StartScheduler(("Scheduler:ScalingInterval", "00:00:00.250"), ("Scheduler:RunnerTimeout", "00:00:03"),
            ("Scheduler:GpuTypeWindow", "00:00:03"));
        foreach (var (runnerId, gpus) in new[]
        {
            (HopperRunner, new[] { "H100", "H100" }),
            (AmpereRunner, new[] { "A100-80GB", "A100-80GB", "T4" }),
            (SpareRunner, new[] { "L4" }),
        })
        {
            var runner = Platform.AddRunner(runnerId, Path.Combine(Platform.Root, runnerId),
            [
                ("GpuRunner:HeartbeatInterval", "00:00:00.250"),
                .. gpus.Select((type, index) => ($"GpuRunner:SimulatedGpus:{index}", type)),
            ]);
            _ = runner.CreateClient();
        }
        Deployment = await AppDeployer.DeployAsync(Client, Examples.OutputDirectory("Autoscaling"), "Autoscaling.dll");
    }

    public async Task DisposeAsync()
    {
        await Platform.DisposeAsync();
        if (Events is not null)
        {
            await Events.DisposeAsync();
        }
    }

    /// <summary>Where the recorded events stand now; events before it belong to earlier tests.</summary>
    public int Mark => Events.Events.Count;

    public object[] EventsSince(int mark) => Events.Events.Skip(mark).ToArray();

    public ContainerStarted[] Started(Guid functionId, int since = 0) =>
        EventsSince(since).OfType<ContainerStarted>().Where(e => e.FunctionId == functionId).ToArray();

    public ContainerStopped[] Stopped(Guid functionId, int since = 0) =>
        EventsSince(since).OfType<ContainerStopped>().Where(e => e.FunctionId == functionId).ToArray();

    /// <summary>Waits until every container of the function an earlier test started has stopped (scaled to zero).</summary>
    public Task ScaledToZeroAsync(Guid functionId) => Eventually.ReturnsAsync(
        () => Task.FromResult((Started(functionId), Stopped(functionId))),
        seen => seen.Item1.All(started => seen.Item2.Any(stopped => stopped.ContainerId == started.ContainerId)),
        "the function has no container left from earlier tests");

    /// <summary>
    /// The most containers of the function that were up at once since <paramref name="since"/> (on
    /// <paramref name="runnerId"/> only, when given), by their start and stop events.
    /// </summary>
    public int MostAtOnce(Guid functionId, int since, string? runnerId = null)
    {
        var (live, most) = (new HashSet<string>(StringComparer.Ordinal), 0);
        foreach (var e in EventsSince(since))
        {
            if (e is ContainerStarted started && started.FunctionId == functionId && (runnerId is null || started.RunnerId == runnerId))
            {
                live.Add(started.ContainerId);
                most = Math.Max(most, live.Count);
            }
            else if (e is ContainerStopped stopped && stopped.FunctionId == functionId)
            {
                live.Remove(stopped.ContainerId); // Only its own: a container started before the mark is not counted twice.
            }
        }
        return most;
    }
}

[Collection(InfrastructureTestGroup.Name)]
public sealed class AutoscalingTests(AutoscalingFixture scale) : IClassFixture<AutoscalingFixture>
{
    [Fact]
    public async Task GpuFunction_LandsOnItsGpuType_ThenFallsBackInOrder_NeverOnAnotherType()
    {
        var render = Function.FromName(scale.Client, scale.Deployment.App.Name, "render");
        var id = scale.FunctionId("render");
        await scale.ScaledToZeroAsync(id);
        var mark = scale.Mark;

        // Four inputs at once: MaxContainers is 4, and the cluster has two H100s, then two A100-80GBs.
        var calls = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => render.SpawnAsync<string>(new { milliseconds = 4_000 })));
        var devices = await FunctionCall.GatherAsync(calls);

        var started = await Eventually.ReturnsAsync(() => Task.FromResult(scale.Started(id, mark)), s => s.Length >= 4, "four render containers start");
        // Counted by how many ran at once on each runner, not in total: under load a container may be scaled down and
        // replaced while the inputs run (heartbeats late by more than the 2 s scaledown window show a busy container
        // idle; it stops gracefully and another starts on the GPU it frees), so a runner may see three starts.
        Assert.Equal(2, scale.MostAtOnce(id, mark, AutoscalingFixture.HopperRunner)); // Both H100s first…
        Assert.InRange(scale.MostAtOnce(id, mark, AutoscalingFixture.AmpereRunner), 1, 2); // …then the fallback, never past its two A100s.
        Assert.DoesNotContain(started, s => s.RunnerId == AutoscalingFixture.SpareRunner);
        // Each container saw exactly one GPU, and the Ampere runner's T4 (device 2) was never handed out.
        Assert.All(devices, device => Assert.True(device is "0" or "1", $"device {device}"));
    }

    [Fact]
    public async Task GpuFunction_NoRunnerHasItsTypeOrFallback_CallsFailNamingTheTypesAskedAndPresent()
    {
        var app = new App(scale.Deployment.App.Name) { Client = scale.Client };
        var nowhere = app.Function("nowhere", (int x) => x, new FunctionOptions { Gpu = "B200", GpuFallbacks = ["L40S"] });
        // A guard, not a measure: without the check these calls would wait for good.
        var guard = TimeSpan.FromMinutes(1);

        var remote = await Assert.ThrowsAsync<RemoteFunctionException>(() => nowhere.RemoteAsync(1).WaitAsync(guard));
        var spawned = await nowhere.SpawnAsync(2);
        var got = await Assert.ThrowsAsync<RemoteFunctionException>(() => spawned.GetAsync(guard));
        var mapped = await nowhere.MapAsync(Enumerable.Range(0, 5), new MapOptions { ReturnExceptions = true }).ToListAsync().AsTask().WaitAsync(guard);
        var stats = await nowhere.GetCurrentStatsAsync();

        foreach (var error in new[] { remote, got }.Concat(mapped.Select(r => Assert.IsType<RemoteFunctionException>(r.Exception))))
        {
            Assert.Equal("Modal.GpuUnavailable", error.RemoteType);
            Assert.Contains("asks for GPU B200, then L40S", error.Message, StringComparison.Ordinal);
            Assert.Contains("GPU types present: A100-80GB, H100, L4, T4.", error.Message, StringComparison.Ordinal);
        }
        Assert.Equal(5, mapped.Count);
        Assert.Contains("GPU types present: A100-80GB, H100, L4, T4.", stats.GpuUnavailable, StringComparison.Ordinal);
        Assert.Equal("Failed", (await scale.Client.Apps.GetCallAsync(spawned.Id)).State);
    }

    [Fact]
    public async Task GpuFunction_ARunnerWithItsTypeJoins_ItsCallsRunThereInsteadOfFailing()
    {
        var app = new App(scale.Deployment.App.Name) { Client = scale.Client };
        var nowhere = app.Function("nowhere", (int x) => x, new FunctionOptions { Gpu = "B200", GpuFallbacks = ["L40S"] });
        var guard = TimeSpan.FromMinutes(1);
        await Assert.ThrowsAsync<RemoteFunctionException>(() => nowhere.RemoteAsync(1).WaitAsync(guard)); // No B200 yet.

        await using var blackwell = scale.NewRunner("scale-blackwell", "B200");
        _ = blackwell.CreateClient();
        var answered = await Eventually.ReturnsAsync(async () =>
        {
            try
            {
                return await nowhere.RemoteAsync(7).WaitAsync(guard);
            }
            catch (RemoteFunctionException e) when (e.RemoteType == "Modal.GpuUnavailable")
            {
                return 0; // Asked before the Scheduler heard the new runner's first heartbeat.
            }
        }, result => result == 7, "a call runs on the runner with a B200");
        var stats = await nowhere.GetCurrentStatsAsync();

        Assert.Equal(7, answered);
        Assert.Null(stats.GpuUnavailable);
        Assert.Contains(scale.Started(scale.FunctionId("nowhere")), s => s.RunnerId == "scale-blackwell");
    }

    [Fact]
    public async Task GpuFunction_ItsOnlyGpuBusy_NextInputWaitsForAGpu_ShownInStats_ThenRuns()
    {
        var app = new App(scale.Deployment.App.Name) { Client = scale.Client };
        var lone = app.Function("lone", async (int milliseconds) =>
        {
            await Task.Delay(milliseconds);
            return 0; // Runs as deployed: the body there returns its container's number.
        }, new FunctionOptions { Gpu = "T4", ScaledownWindow = TimeSpan.FromSeconds(2) });
        await scale.ScaledToZeroAsync(scale.FunctionId("lone"));

        var first = await lone.SpawnAsync(6_000);
        await Eventually.ReturnsAsync(() => scale.Client.Apps.GetCallAsync(first.Id), call => call.State == "Running", "the first input holds the T4");
        var second = await lone.SpawnAsync(0);
        var waiting = await Eventually.ReturnsAsync(() => lone.GetCurrentStatsAsync(), s => s.InputsWaitingForGpu == 1,
            "the second input shows as waiting for a GPU");
        var secondWhileWaiting = (await scale.Client.Apps.GetCallAsync(second.Id)).State;

        var results = await FunctionCall.GatherAsync(first, second);

        Assert.Equal((1, "T4", null), (waiting.Backlog, waiting.Gpu, waiting.GpuUnavailable));
        Assert.Equal(1, waiting.Containers); // Only the T4's: no other runner was given the input.
        Assert.NotEqual("Failed", secondWhileWaiting);
        Assert.Single(results.Distinct()); // Both ran in the one container that holds the T4: the second waited for it.
        Assert.Equal(0, (await lone.GetCurrentStatsAsync()).InputsWaitingForGpu);
    }

    [Fact]
    public async Task ConcurrentStartsForOneGpu_RunnerGivesItOnce_AndRefusesTheOther()
    {
        var once = scale.FunctionId("once");
        var first = $"race-a-{Guid.NewGuid():N}"[..20];
        var second = $"race-b-{Guid.NewGuid():N}"[..20];
        var address = RunnerQueues.ContainersAddressOf(AutoscalingFixture.SpareRunner);

        // Two starts on the spare runner's only GPU, racing, as two Schedulers with stale views might send them.
        await Task.WhenAll(
            scale.Events.SendAsync(address, new StartContainer { ContainerId = first, RunnerId = AutoscalingFixture.SpareRunner, FunctionId = once, GpuIndices = [0], RequestedAt = DateTimeOffset.UtcNow }),
            scale.Events.SendAsync(address, new StartContainer { ContainerId = second, RunnerId = AutoscalingFixture.SpareRunner, FunctionId = once, GpuIndices = [0], RequestedAt = DateTimeOffset.UtcNow }));

        var outcomes = await Eventually.ReturnsAsync(
            () => Task.FromResult(scale.Events.Events.Where(e => e is ContainerStarted { ContainerId: var c } && (c == first || c == second)
                || e is ContainerStartFailed { ContainerId: var f } && (f == first || f == second)).ToArray()),
            all => all.Length >= 2, "both starts are answered");
        Assert.Single(outcomes.OfType<ContainerStarted>());
        Assert.Equal("GpusTaken", Assert.Single(outcomes.OfType<ContainerStartFailed>()).Reason);
    }

    [Fact]
    public async Task NoHeartbeat_EverShowsOneGpuHeldByTwoContainers()
    {
        var render = Function.FromName(scale.Client, scale.Deployment.App.Name, "render");
        var mark = scale.Mark;

        // More inputs than GPUs that fit: starts race for the same four GPUs while the Scheduler scales up.
        var calls = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => render.SpawnAsync<string>(new { milliseconds = 1_500 })));
        await FunctionCall.GatherAsync(calls);

        var reports = scale.EventsSince(mark).OfType<RunnerCapacityReported>().ToArray();
        Assert.Contains(reports, r => r.Containers.Any(c => c.GpuIndices.Count > 0)); // The check saw GPU containers…
        foreach (var report in reports)
        {
            var held = report.Containers.SelectMany(c => c.GpuIndices).ToList();
            Assert.Equal(held.Count, held.Distinct().Count()); // …and never one GPU twice.
        }
    }

    [Fact]
    public async Task Backlog_ScalesFromZeroToMaxContainers_ThenIdleContainersStopAfterTheWindow()
    {
        var burst = Function.FromName(scale.Client, scale.Deployment.App.Name, "burst");
        var id = scale.FunctionId("burst");
        await scale.ScaledToZeroAsync(id);
        var mark = scale.Mark;

        var calls = await Task.WhenAll(Enumerable.Range(0, 9).Select(_ => burst.SpawnAsync<int>(new { milliseconds = 2_000 })));
        var processes = await FunctionCall.GatherAsync(calls);

        Assert.Equal(3, scale.MostAtOnce(id, mark)); // Scaled up to MaxContainers, never past it.
        Assert.Equal(3, processes.Distinct().Count());
        var started = scale.Started(id, mark).Select(s => s.ContainerId).ToHashSet();
        await Eventually.ReturnsAsync(() => Task.FromResult(scale.Stopped(id, mark)),
            stopped => started.All(c => stopped.Any(s => s.ContainerId == c && s.Reason == "ScaledDown")),
            "every burst container stops once idle for the scaledown window (scale to zero)");
    }

    [Fact]
    public async Task MinContainers_OneStaysWarmWithoutAnyCall()
    {
        var id = scale.FunctionId("warm");

        var warm = await Eventually.ReturnsAsync(() => Task.FromResult(scale.Started(id)), s => s.Length > 0, "the warm container starts with no call");
        // Several scaledown windows (2 s) later it still runs, and serves a call at once.
        var pid = await Function.FromName(scale.Client, scale.Deployment.App.Name, "warm").RemoteAsync<int>(new { });
        await Task.Delay(TimeSpan.FromSeconds(6));

        Assert.Empty(scale.Stopped(id));
        Assert.Single(scale.Started(id));
        Assert.Equal(pid, await Function.FromName(scale.Client, scale.Deployment.App.Name, "warm").RemoteAsync<int>(new { }));
        Assert.NotNull(warm);
    }

    [Fact]
    public async Task SingleUseContainers_EachInputRunsInAFreshContainer()
    {
        var once = Function.FromName(scale.Client, scale.Deployment.App.Name, "once");
        var id = scale.FunctionId("once");
        var mark = scale.Mark;

        var pids = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            pids.Add(await once.RemoteAsync<int>(new { }));
        }

        Assert.Equal(3, pids.Distinct().Count());
        await Eventually.ReturnsAsync(() => Task.FromResult(scale.Stopped(id, mark)), s => s.Count(e => e.Reason == "SingleUse") >= 3,
            "each container exits after its one input");
    }

    [Fact]
    public async Task UpdateAutoscalerAsync_MinContainers_StartsAndStopsContainersWithoutCalls_AndStatsShowThem()
    {
        var tunable = Function.FromName(scale.Client, scale.Deployment.App.Name, "tunable");

        var raised = await tunable.UpdateAutoscalerAsync(minContainers: 2);
        var warm = await Eventually.ReturnsAsync(() => tunable.GetCurrentStatsAsync(), s => s.Containers == 2, "two containers start with no call");
        var lowered = await tunable.UpdateAutoscalerAsync(minContainers: 0, scaledownWindow: TimeSpan.FromSeconds(2));
        var idle = await Eventually.ReturnsAsync(() => tunable.GetCurrentStatsAsync(), s => s.Containers == 0, "they stop once idle for the window");

        Assert.Equal(2, raised.MinContainers);
        Assert.Equal((0, 0), (warm.Backlog, warm.RunningInputs));
        Assert.Equal(0, lowered.MinContainers);
        Assert.Equal(2, idle.ScaledownWindowSeconds);
    }

    [Fact]
    public async Task UpdateAutoscalerAsync_MinAboveMax_Returns400NamingTheField()
    {
        var tunable = Function.FromName(scale.Client, scale.Deployment.App.Name, "tunable");

        var refused = await Assert.ThrowsAnyAsync<Refit.ApiException>(() => tunable.UpdateAutoscalerAsync(minContainers: 3, maxContainers: 1));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("minContainers", refused.Content, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StopApp_DuringABurstOfStarts_LeavesNoContainerInAnyRunnersListOrOnTheNode()
    {
        // A run of its own (an ephemeral app): only its containers count, whatever other tests left running.
        var run = await AppDeployer.DeployAsync(scale.Client, Examples.OutputDirectory("HelloWorld"), "HelloWorld.dll", ephemeral: true);
        var functionIds = run.App.Functions.Select(f => f.Id).ToHashSet();
        var sleep = Function.FromName(scale.Client, run.App.Id, "sleep");
        var mark = scale.Mark;
        // Inputs at once: the Scheduler places a container for each, and they start side by side.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => sleep.SpawnAsync<int>(new { milliseconds = 60_000 })));
        await Eventually.ReturnsAsync(() => Task.FromResult(scale.EventsSince(mark).OfType<ContainerStarted>().Count(e => functionIds.Contains(e.FunctionId))),
            started => started > 0, "the first container of the burst is up");

        await scale.Client.Apps.StopAsync(run.App.Id); // Others are starting, or their start is on its way to a runner.

        IReadOnlyList<string> Listed() => scale.Runners
            .SelectMany(runner => runner.Services.GetRequiredService<Modal.GpuRunner.Containers.InputSlots>().Describe())
            .Where(container => functionIds.Contains(container.FunctionId)).Select(container => container.ContainerId).ToList();
        IReadOnlyList<int> Running() => NodeProcesses.WithEnvironment($"MODAL_APP_ID={run.App.Id}");
        await Eventually.ReturnsAsync(() => Task.FromResult((Listed(), Running())), left => left.Item1.Count == 0 && left.Item2.Count == 0,
            "no container of the stopped app is listed by a runner or runs on the node");
        // Starts still on their way when the stop landed would show up now (they once kept running for good).
        await Task.Delay(TimeSpan.FromSeconds(10));
        Assert.Empty(Listed());
        Assert.Empty(Running());
    }

    [Fact]
    public async Task StopApp_InputStillQueued_FailsAsAppStopped()
    {
        var hello = await AppDeployer.DeployAsync(scale.Client, Examples.OutputDirectory("HelloWorld"), "HelloWorld.dll");
        var sleep = Function.FromName(scale.Client, hello.App.Name, "sleep");
        // One container at most, so the second input waits in the queue (the Scheduler may not have heard of the deploy yet).
        await Eventually.ReturnsAsync(async () =>
        {
            try
            {
                return (await sleep.UpdateAutoscalerAsync(maxContainers: 1)).MaxContainers;
            }
            catch (Refit.ApiException e) when (e.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
            {
                return null;
            }
        }, max => max == 1, "the Scheduler takes the bound");
        var running = await sleep.SpawnAsync<int>(new { milliseconds = 60_000 });
        var queued = await sleep.SpawnAsync<int>(new { milliseconds = 0 });
        await Eventually.ReturnsAsync(() => scale.Client.Apps.GetCallAsync(running.Id), call => call.State == "Running", "the first input runs");

        await scale.Client.Apps.StopAsync(hello.App.Name);

        var error = await Assert.ThrowsAsync<RemoteFunctionException>(() => queued.GetAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal("Modal.AppStopped", error.RemoteType);
    }
}
