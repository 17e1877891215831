using Modal.Contracts.Runners;
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
}
