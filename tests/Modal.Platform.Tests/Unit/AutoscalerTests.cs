using Modal.Scheduler.Autoscaling;

namespace Modal.Platform.Tests.Unit;

public sealed class AutoscalerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static ScalingBounds Bounds(int min = 0, int? max = null, int buffer = 0, int perContainer = 1) =>
        new(min, max, buffer, TimeSpan.FromSeconds(60), perContainer);

    [Theory]
    [InlineData(0, 0, 0)]      // No work: scale to zero.
    [InlineData(10, 0, 10)]    // One container per input.
    [InlineData(7, 3, 10)]     // Waiting and running both count.
    public void DesiredContainers_FollowsTheWork(int backlog, int running, int desired) =>
        Assert.Equal(desired, Autoscaler.DesiredContainers(Bounds(), new FunctionLoad(backlog, running, [])));

    [Fact]
    public void DesiredContainers_HonoursConcurrencyBufferMinAndMax()
    {
        Assert.Equal(3, Autoscaler.DesiredContainers(Bounds(perContainer: 4), new FunctionLoad(9, 0, [])));
        Assert.Equal(5, Autoscaler.DesiredContainers(Bounds(buffer: 2), new FunctionLoad(3, 0, [])));
        Assert.Equal(0, Autoscaler.DesiredContainers(Bounds(buffer: 2), new FunctionLoad(0, 0, []))); // Buffer only under load.
        Assert.Equal(2, Autoscaler.DesiredContainers(Bounds(min: 2), new FunctionLoad(0, 0, [])));
        Assert.Equal(4, Autoscaler.DesiredContainers(Bounds(max: 4), new FunctionLoad(100, 0, [])));
    }

    [Fact]
    public void Decide_StopsOnlyContainersIdlePastTheWindow_IdlestFirst()
    {
        var containers = new[]
        {
            new ContainerActivity("busy", 1, Now),
            new ContainerActivity("idle-long", 0, Now.AddMinutes(-5)),
            new ContainerActivity("idle-short", 0, Now.AddSeconds(-10)),
            new ContainerActivity("idle-longer", 0, Now.AddMinutes(-10)),
        };

        var decision = Autoscaler.Decide(Bounds(), new FunctionLoad(0, 1, containers), Now);

        Assert.Equal(1, decision.Desired);
        Assert.Equal(["idle-longer", "idle-long"], decision.Stop); // idle-short is inside its window.
    }

    [Fact]
    public void Decide_MoreWorkThanContainers_StartsTheDifference() =>
        Assert.Equal(3, Autoscaler.Decide(Bounds(), new FunctionLoad(4, 0, [new ContainerActivity("c", 0, Now)]), Now).Start);
}
