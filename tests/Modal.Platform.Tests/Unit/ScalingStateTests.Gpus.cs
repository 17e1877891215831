namespace Modal.Platform.Tests.Unit;

/// <summary>Which GPU functions fail at once (no runner has their type) and which wait for a GPU (all of theirs taken).</summary>
public sealed partial class ScalingStateTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1); // SchedulerOptions.GpuTypeWindow's default.

    [Fact]
    public void GpuUnavailableReason_NoRunnerHasTheTypeOrAFallback_NamesWhatWasAskedAndWhatIsPresent()
    {
        _clock.Advance(Window);
        Runner("ampere", ["A100-80GB", "T4"]);
        var f = Deploy(Function("train", gpu: "B200", fallbacks: ["h200:2"]));

        var reason = _state.GpuUnavailableReason(f.FunctionId);

        Assert.Equal("'train' asks for GPU B200, then H200:2, and no runner seen in the last 1 min has any of those types. GPU types present: A100-80GB, T4.", reason);
        Assert.Equal(reason, _state.GpuUnavailableFunctions()[f.FunctionId]);
        Assert.Equal(reason, _state.Describe(f.FunctionId)!.GpuUnavailable);
    }

    [Fact]
    public void GpuUnavailableReason_AFallbackOrAnUpgradeIsPresent_IsNull()
    {
        _clock.Advance(Window);
        Runner("hopper", ["H200"]);
        var upgrade = Deploy(Function("upgrade", gpu: "H100"));
        var fallback = Deploy(Function("fallback", gpu: "T4", fallbacks: ["H200"]));
        var pinned = Deploy(Function("pinned", gpu: "H100!"));
        var cpu = Deploy(Function("cpu"));

        Assert.Null(_state.GpuUnavailableReason(upgrade.FunctionId));
        Assert.Null(_state.GpuUnavailableReason(fallback.FunctionId));
        Assert.Null(_state.GpuUnavailableReason(cpu.FunctionId));
        Assert.Contains("GPU types present: H200.", _state.GpuUnavailableReason(pinned.FunctionId), StringComparison.Ordinal);
        Assert.Equal([pinned.FunctionId], _state.GpuUnavailableFunctions().Keys);
    }

    [Fact]
    public void GpuUnavailableReason_RunnerRestartingWithinTheWindow_KeepsItsTypePresent_ThenItLapses()
    {
        _clock.Advance(Window);
        Runner("hopper", ["H100"]);
        var f = Deploy(Function("f", gpu: "H100"));

        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(["hopper"], _state.RemoveSilentRunners(TimeSpan.FromSeconds(10))); // Gone from placement…
        Assert.Null(_state.GpuUnavailableReason(f.FunctionId)); // …but its H100 counts for the window: it may be restarting.

        _clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Contains("GPU types present: none.", _state.GpuUnavailableReason(f.FunctionId), StringComparison.Ordinal);
        Runner("hopper", ["H100"]); // Back: calls are placed again.
        Assert.Null(_state.GpuUnavailableReason(f.FunctionId));
    }

    [Fact]
    public void GpuUnavailableReason_SchedulerYoungerThanTheWindow_FailsNothing()
    {
        var f = Deploy(Function("f", gpu: "H100"));
        Runner("ampere", ["T4"]);

        _clock.Advance(Window - TimeSpan.FromSeconds(1));
        Assert.Null(_state.GpuUnavailableReason(f.FunctionId)); // A runner with an H100 may be restarting as this Scheduler starts.
        Assert.Empty(_state.GpuUnavailableFunctions());

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(_state.GpuUnavailableReason(f.FunctionId));
    }

    [Fact]
    public void Describe_EveryGpuOfItsTypeTaken_SaysItsContainersWaitForAGpu_UntilOneIsFree()
    {
        Runner("ampere", ["T4"]);
        var f = Deploy(Function("f", gpu: "T4"));
        Assert.False(_state.Describe(f.FunctionId)!.GpusAllTaken);

        var first = Assert.Single(_state.Scale(f.Key, backlog: 2).Starts); // One T4: the second container cannot be placed.
        var busy = _state.Describe(f.FunctionId)!;
        _state.Gone(first.ContainerId);

        Assert.True(busy.GpusAllTaken);
        Assert.Equal("T4", busy.Gpu);
        Assert.Null(busy.GpuUnavailable);
        Assert.False(_state.Describe(f.FunctionId)!.GpusAllTaken);
    }
}
