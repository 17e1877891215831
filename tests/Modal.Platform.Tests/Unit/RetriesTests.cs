namespace Modal.Platform.Tests.Unit;

public sealed class RetriesTests
{
    [Fact]
    public void ImplicitCount_MeansFixedOneSecondDelay()
    {
        Retries retries = 3;

        Assert.Equal(3, retries.MaxRetries);
        Assert.All(Enumerable.Range(1, 3), retry => Assert.Equal(TimeSpan.FromSeconds(1), retries.DelayBeforeRetry(retry)));
    }

    [Fact]
    public void DelayBeforeRetry_GrowsByCoefficientUpToMaxDelay()
    {
        var retries = new Retries(6, backoffCoefficient: 3, initialDelay: TimeSpan.FromSeconds(2), maxDelay: TimeSpan.FromSeconds(30));

        var delays = Enumerable.Range(1, 5).Select(retries.DelayBeforeRetry).Select(d => d.TotalSeconds);

        Assert.Equal([2, 6, 18, 30, 30], delays);
    }

    [Theory]
    [InlineData(11, 2.0, 1.0, 60.0, "Retries.MaxRetries")]
    [InlineData(-1, 2.0, 1.0, 60.0, "Retries.MaxRetries")]
    [InlineData(1, 0.5, 1.0, 60.0, "Retries.BackoffCoefficient")]
    [InlineData(1, 11.0, 1.0, 60.0, "Retries.BackoffCoefficient")]
    [InlineData(1, 2.0, 61.0, 60.0, "Retries.InitialDelay")]
    [InlineData(1, 2.0, 1.0, 0.5, "Retries.MaxDelay")]
    [InlineData(1, 2.0, 1.0, 61.0, "Retries.MaxDelay")]
    public void Constructor_OutOfModalsBounds_ThrowsNamingTheValue(int max, double coefficient, double initial, double maxDelay, string option)
    {
        var error = Assert.Throws<InvalidFunctionOptionsException>(() =>
            new Retries(max, coefficient, TimeSpan.FromSeconds(initial), TimeSpan.FromSeconds(maxDelay)));

        Assert.Equal(option, error.Option);
    }
}
