using Microsoft.Extensions.Options;
using Modal.Contracts.Apps;
using Modal.Contracts.Calls;
using Modal.Contracts.Containers;
using Modal.Contracts.Runners;
using Modal.Scheduler;
using Modal.Scheduler.Autoscaling;

namespace Modal.Platform.Tests.Unit;

public sealed partial class ScalingStateTests
{
    private readonly ManualClock _clock = new();
    private readonly ScalingState _state;

    public ScalingStateTests() => _state = new ScalingState(_clock, Options.Create(new SchedulerOptions { RunnerTimeout = TimeSpan.FromSeconds(10) }));

    [Fact]
    public void Scale_GpuBacklog_FillsItsTypeFirstThenTheFallback_AndNoMoreThanFits()
    {
        Runner("hopper", ["H100", "H100"]);
        Runner("ampere", ["A100-80GB", "T4"]);
        var render = Deploy(Function("render", gpu: "H100", fallbacks: ["A100-80GB"]));

        var commands = _state.Scale(render.Key, backlog: 5);

        Assert.Equal(["hopper", "hopper", "ampere"], commands.Starts.Select(s => s.RunnerId));
        int[] firstH100ThenSecondThenFirstA100 = [0, 1, 0];
        Assert.Equal(firstH100ThenSecondThenFirstA100, commands.Starts.Select(s => Assert.Single(s.GpuIndices)));
        Assert.Empty(_state.Scale(render.Key, backlog: 5).Starts); // Every H100 and A100 is held; the T4 is never offered.
    }

    [Fact]
    public async Task Scale_ConcurrentDecisionsForOneGpuType_NeverShareAGpu()
    {
        Runner("hopper", ["H100", "H100", "H100", "H100"]);
        var groups = Enumerable.Range(0, 8).Select(i => Deploy(Function($"f{i}", gpu: "H100"))).ToList();

        var decisions = await Task.WhenAll(groups.Select(g => Task.Run(() => _state.Scale(g.Key, backlog: 2))));

        var held = decisions.SelectMany(d => d.Starts).SelectMany(s => s.GpuIndices.Select(index => (s.RunnerId, index))).ToList();
        Assert.Equal(4, held.Count);
        Assert.Equal(held.Count, held.Distinct().Count());
    }

    [Fact]
    public void RemoveSilentRunners_ForgetsTheRunnerAndItsContainers_SoReplacementsGoElsewhere()
    {
        Runner("doomed", []);
        var f = Deploy(Function("f"));
        var first = Assert.Single(_state.Scale(f.Key, backlog: 1).Starts);
        Report("doomed", [Container(first.ContainerId, f.FunctionId, running: 1)]);
        _clock.Advance(TimeSpan.FromSeconds(6));
        Runner("survivor", []);
        _clock.Advance(TimeSpan.FromSeconds(6));
        Report("survivor", []);

        Assert.Equal(["doomed"], _state.RemoveSilentRunners(TimeSpan.FromSeconds(10)));
        var replacement = Assert.Single(_state.Scale(f.Key, backlog: 1).Starts);
        Assert.Equal("survivor", replacement.RunnerId);
    }

    [Fact]
    public void Report_ContainerThisStateDidNotPlace_IsAdoptedWithItsGpu()
    {
        Runner("hopper", ["H100"]);
        var f = Deploy(Function("f", gpu: "H100", minContainers: 1));

        Report("hopper", [Container("from-before-a-restart", f.FunctionId, running: 0, gpus: [0])]);

        Assert.Empty(_state.Scale(f.Key, backlog: 0).Starts); // MinContainers is met by the adopted one…
        var other = Deploy(Function("other", gpu: "H100"));
        Assert.Empty(_state.Scale(other.Key, backlog: 1).Starts); // …which holds the only H100.
    }

    [Fact]
    public void Report_StartNeverConfirmed_IsForgottenAfterTheGrace_AndItsGpuFreed()
    {
        Runner("hopper", ["H100"]);
        var f = Deploy(Function("f", gpu: "H100"));
        Assert.Single(_state.Scale(f.Key, backlog: 1).Starts);

        Report("hopper", []);
        Assert.Empty(_state.Scale(f.Key, backlog: 1).Starts); // Still on its way: counted, GPU held.
        _clock.Advance(TimeSpan.FromSeconds(30));
        Report("hopper", []);

        Assert.Single(_state.Scale(f.Key, backlog: 1).Starts);
    }

    [Fact]
    public void UpdateBounds_LastsUntilTheNextDeploy()
    {
        Runner("cpu", []);
        var spec = Function("f");
        var f = Deploy(spec);

        Assert.True(_state.UpdateBounds(f.FunctionId, minContainers: 2, maxContainers: null, bufferContainers: null, scaledownWindow: null));
        Assert.Equal(2, _state.Scale(f.Key, backlog: 0).Starts.Count);
        Deploy(spec);

        Assert.Equal(0, _state.Describe(f.FunctionId)!.Bounds.MinContainers);
    }

    [Fact]
    public void Scale_InputsARunnerHoldsWaitingForASlot_CountAsBacklog()
    {
        Runner("cpu", []);
        var f = Deploy(Function("f"));
        var first = Assert.Single(_state.Scale(f.Key, backlog: 1).Starts);
        // The queue is empty, but the runner took a slice of 31 inputs: 1 runs, 30 wait for the container's one slot.
        Report("cpu", [Container(first.ContainerId, f.FunctionId, running: 1) with { WaitingInputs = 30 }]);

        var commands = _state.Scale(f.Key, backlog: 0);

        Assert.Equal(31, commands.Desired); // Without the waiting inputs: 1, the container it has.
        Assert.NotEmpty(commands.Starts);
    }

    [Fact]
    public void Report_HeartbeatTakenBeforeAContainerStartedArrivesAfterItsStartEvent_KeepsTheContainer()
    {
        Runner("node", []);
        var f = Deploy(Function("f", minContainers: 1));
        var start = Assert.Single(_state.Scale(f.Key, backlog: 0).Starts);
        var takenBeforeTheStart = _clock.GetUtcNow();
        _clock.Advance(TimeSpan.FromSeconds(1));
        _state.Started(new ContainerStarted
        {
            ContainerId = start.ContainerId, RunnerId = "node", FunctionId = f.FunctionId, AppName = "app", FunctionName = "f", BundleId = "bundle",
            StartedAt = _clock.GetUtcNow(),
        });

        _state.Report(new RunnerCapacityReported
        {
            RunnerId = "node", Gpus = [], CpuCores = 8, MemoryMiB = 32_768, ReportedAt = takenBeforeTheStart, Containers = [],
        });

        Assert.Equal([start.ContainerId], _state.Describe(f.FunctionId)!.Containers.Select(c => c.ContainerId));
        Assert.Empty(_state.Scale(f.Key, backlog: 0).Starts); // Not replaced: MinContainers is met.
    }

    [Fact]
    public void TakeQueuesToDelete_AfterAStop_HandsEachQueueOutOnceWhenRunnersHaveDrainedIt()
    {
        var f = Deploy(Function("f"));
        _state.Stop(new AppStopped
        {
            WorkspaceId = Guid.Empty, AppId = Guid.Empty, AppName = "app", FunctionIds = [f.FunctionId], StoppedAt = _clock.GetUtcNow(),
        });

        _clock.Advance(FunctionQueues.DrainAfterStop);
        Assert.Empty(_state.TakeQueuesToDelete()); // Runners may still be failing what is left in it.
        _clock.Advance(FunctionQueues.DeleteAfterStop - FunctionQueues.DrainAfterStop);
        Assert.Equal([f.FunctionId], _state.TakeQueuesToDelete());
        Assert.Empty(_state.TakeQueuesToDelete());
        Assert.Null(_state.Describe(f.FunctionId));
    }

    private (string Key, Guid FunctionId) Deploy(DeployedFunctionSpec function)
    {
        _state.Deploy(new AppDeployed
        {
            WorkspaceId = Guid.Empty, AppId = Guid.Empty, AppName = "app", BundleId = "bundle", Functions = [function], DeployedAt = _clock.GetUtcNow(),
        });
        return (function.FunctionId.ToString("N"), function.FunctionId);
    }

    private static DeployedFunctionSpec Function(string name, string? gpu = null, IReadOnlyList<string>? fallbacks = null, int minContainers = 0) => new()
    {
        FunctionId = Guid.NewGuid(), Name = name, MaxConcurrentInputs = 1, Timeout = TimeSpan.FromMinutes(1), Gpu = gpu, GpuFallbacks = fallbacks ?? [],
        MinContainers = minContainers,
    };

    private void Runner(string id, IReadOnlyList<string> gpus) => Report(id, [], gpus);

    private void Report(string id, IReadOnlyList<RunnerContainer> containers, IReadOnlyList<string>? gpus = null) => _state.Report(new RunnerCapacityReported
    {
        RunnerId = id,
        Gpus = (gpus ?? []).Select((type, index) => new RunnerGpu
        {
            Index = index, Type = type, Uuid = $"{id}-{index}", MemoryMiB = 0, Simulated = true, Allocated = false,
        }).ToList(),
        CpuCores = 8,
        MemoryMiB = 32_768,
        ReportedAt = _clock.GetUtcNow(),
        Containers = containers,
    });

    private RunnerContainer Container(string id, Guid functionId, int running, IReadOnlyList<int>? gpus = null) => new()
    {
        ContainerId = id, FunctionId = functionId, RunningInputs = running, LastBusyAt = _clock.GetUtcNow(), GpuIndices = gpus ?? [], State = "Running",
    };

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
