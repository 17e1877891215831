using Modal.GpuRunner.Infrastructure;

namespace Modal.Platform.Tests.Unit;

public sealed class DelayQueuesTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 100)]
    [InlineData(100, 100)]
    [InlineData(101, 200)]
    [InlineData(9_950, 10_000)]
    [InlineData(10_000, 10_000)]
    [InlineData(10_001, 11_000)]
    [InlineData(59_100, 60_000)]
    [InlineData(60_000, 60_000)]
    public void Round_Delay_RoundsUpToItsStep(int milliseconds, int expected) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expected), DelayQueues.Round(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void NameFor_DelaysInOneStep_ShareAQueue()
    {
        Assert.Equal("modal-delay-1500", DelayQueues.NameFor(TimeSpan.FromMilliseconds(1_401)));
        Assert.Equal("modal-delay-1500", DelayQueues.NameFor(TimeSpan.FromSeconds(1.5)));
        Assert.Equal("modal-delay-20000", DelayQueues.NameFor(TimeSpan.FromSeconds(19.2)));
    }

    [Fact]
    public void Round_EveryDelayAPolicyAllows_FitsInABoundedSetOfQueues()
    {
        var queues = Enumerable.Range(1, 60_000).Select(ms => DelayQueues.NameFor(TimeSpan.FromMilliseconds(ms))).Distinct().Count();

        Assert.Equal(150, queues);
    }
}
