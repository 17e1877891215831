using Modal.Api.Contracts.Gpus;
using Modal.Scheduler.Placement;

namespace Modal.Platform.Tests.Unit;

public sealed class ClusterStateTests
{
    private static ContainerRequest Gpu(string id, params string[] specs) => new(id, specs.Select(GpuRequest.Parse).ToList(), 1, 1024);

    [Fact]
    public void TryPlace_PrefersTheFullestRunnerThatFits()
    {
        var cluster = new ClusterState();
        cluster.AddRunner("empty", Enumerable.Repeat("H100", 8).ToList(), 64, 512_000);
        cluster.AddRunner("busy", Enumerable.Repeat("H100", 8).ToList(), 64, 512_000);
        cluster.TryPlace(Gpu("first", "H100:6"));

        var placed = cluster.TryPlace(Gpu("second", "H100:2"))!;
        var firstRunner = cluster.Placements.Single(p => p.ContainerId == "first").RunnerId;

        Assert.Equal(firstRunner, placed.RunnerId); // Best fit: the runner with 2 free, not the empty one.
    }

    [Fact]
    public void TryPlace_FallsBackInOrder_WhenThePrimaryTypeIsFull()
    {
        var cluster = new ClusterState();
        cluster.AddRunner("h100", ["H100"], 8, 64_000);
        cluster.AddRunner("a100", ["A100-80GB"], 8, 64_000);
        cluster.TryPlace(Gpu("takes-h100", "H100"));

        var placed = cluster.TryPlace(Gpu("falls-back", "H100", "A100-80GB"))!;

        Assert.Equal(("a100", "A100-80GB"), (placed.RunnerId, placed.GpuType));
        Assert.Null(cluster.TryPlace(Gpu("nothing-left", "H100", "A100-80GB")));
    }

    [Fact]
    public void TryPlace_NeverGivesAGpuToTwoContainers_AndReleaseFreesIt()
    {
        var cluster = new ClusterState();
        cluster.AddRunner("node", ["T4", "T4", "L4"], 16, 64_000);

        var placements = Enumerable.Range(0, 5).Select(i => cluster.TryPlace(Gpu($"c{i}", "any"))).ToList();

        Assert.Equal(3, placements.Count(p => p is not null));
        Assert.Equal(3, placements.Where(p => p is not null).SelectMany(p => p!.GpuIndices).Distinct().Count());
        Assert.True(cluster.Release("c1"));
        var again = cluster.TryPlace(Gpu("c9", "any"))!;
        Assert.Equal(placements[1]!.GpuIndices, again.GpuIndices);
    }

    [Fact]
    public void TryPlace_RespectsCpuAndMemory()
    {
        var cluster = new ClusterState();
        cluster.AddRunner("small", ["T4", "T4"], 2, 4_000);

        Assert.NotNull(cluster.TryPlace(new ContainerRequest("a", [GpuRequest.Parse("T4")], 2, 1_000)));
        Assert.Null(cluster.TryPlace(new ContainerRequest("b", [GpuRequest.Parse("T4")], 1, 1_000))); // A T4 is free, CPU is not.
    }

    [Fact]
    public void RemoveRunner_ReturnsItsContainers()
    {
        var cluster = new ClusterState();
        cluster.AddRunner("gone", ["T4"], 4, 8_000);
        cluster.TryPlace(Gpu("c", "T4"));

        var lost = cluster.RemoveRunner("gone");

        Assert.Equal("c", Assert.Single(lost).ContainerId);
        Assert.Equal((0, 0), (cluster.TotalGpus, cluster.AllocatedGpus));
    }

    [Fact]
    public void TryPlace_A100_TakesEitherMemorySize_ButAPinnedSizeTakesOnlyItself()
    {
        var cluster = new ClusterState();
        cluster.AddRunner("small", ["A100-40GB"], 8, 64_000);
        cluster.AddRunner("large", ["A100-80GB"], 8, 64_000);

        var pinned = cluster.TryPlace(Gpu("pinned", "A100-80GB"))!;
        var either = cluster.TryPlace(Gpu("either", "A100"))!;

        Assert.Equal("large", pinned.RunnerId);
        Assert.Equal(("small", "A100-40GB"), (either.RunnerId, either.GpuType));
        Assert.Null(cluster.TryPlace(Gpu("none-left", "A100")));
    }

    [Fact]
    public void TryPlace_H100_PrefersAnH100AnywhereThenRunsOnAnH200_UnlessPinned()
    {
        var cluster = new ClusterState();
        cluster.AddRunner("hopper-200", ["H200", "H200"], 8, 64_000);
        cluster.AddRunner("hopper-100", ["H100", "H100", "H100"], 8, 64_000);

        var first = cluster.TryPlace(Gpu("first", "H100:2"))!;
        var pinned = cluster.TryPlace(Gpu("pinned", "H100!:2"));
        var upgraded = cluster.TryPlace(Gpu("upgraded", "H100:2"))!;

        Assert.Equal(("hopper-100", "H100"), (first.RunnerId, first.GpuType)); // Its own type first, though the H200 runner is fuller.
        Assert.Null(pinned); // One H100 left: a pinned request waits rather than take an H200.
        Assert.Equal(("hopper-200", "H200"), (upgraded.RunnerId, upgraded.GpuType));
    }

    [Fact]
    public void TryPlace_UpgradeIsTriedBeforeTheNextFallback()
    {
        var cluster = new ClusterState();
        cluster.AddRunner("h200", ["H200"], 8, 64_000);
        cluster.AddRunner("a100", ["A100-80GB"], 8, 64_000);

        var placed = cluster.TryPlace(Gpu("f", "H100", "A100-80GB"))!;

        Assert.Equal("H200", placed.GpuType);
    }

    [Fact]
    public void CanPlace_SaysWhetherAGpuIsFreeNow_WithoutTakingIt()
    {
        var cluster = new ClusterState();
        cluster.AddRunner("t4", ["T4"], 8, 64_000);
        IReadOnlyList<GpuRequest> t4 = [GpuRequest.Parse("T4")];

        Assert.True(cluster.CanPlace(t4, 1, 1024));
        Assert.True(cluster.CanPlace(t4, 1, 1024)); // Asking took nothing.
        cluster.TryPlace(Gpu("holder", "T4"));
        Assert.False(cluster.CanPlace(t4, 1, 1024));
        Assert.False(cluster.CanPlace([GpuRequest.Parse("L4")], 1, 1024));
        Assert.True(cluster.CanPlace([], 1, 1024)); // CPU only still fits.
    }
}
