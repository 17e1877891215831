using Modal.Contracts.Apps;
using Modal.GpuRunner.Domain;

namespace Modal.Platform.Tests.Unit;

public sealed class RetryPolicyTests
{
    [Fact]
    public void DelayBeforeAttempt_FirstRetryWaitsInitialDelayThenGrowsByCoefficientUpToMaxDelay()
    {
        var retries = new Retries(6, backoffCoefficient: 3, initialDelay: TimeSpan.FromSeconds(2), maxDelay: TimeSpan.FromSeconds(30));
        var function = Function(retries);

        // Attempt 2 is retry 1: the runner waits what the SDK promises before each retry.
        var delays = Enumerable.Range(2, 5).Select(attempt => RetryPolicy.DelayBeforeAttempt(function, attempt));

        Assert.Equal([2, 6, 18, 30, 30], delays.Select(d => d.TotalSeconds));
        Assert.Equal(Enumerable.Range(1, 5).Select(retries.DelayBeforeRetry), Enumerable.Range(2, 5).Select(a => RetryPolicy.DelayBeforeAttempt(function, a)));
    }

    [Fact]
    public void WillRetry_UntilTheLastRetryHasRun()
    {
        var function = Function(new Retries(2));

        Assert.True(RetryPolicy.WillRetry(function, 1));
        Assert.True(RetryPolicy.WillRetry(function, 2));
        Assert.False(RetryPolicy.WillRetry(function, 3));
    }

    [Fact]
    public void Crash_WithoutRetries_IsStillRedeliveredWithoutBackoff()
    {
        var function = Function(new Retries(0, initialDelay: TimeSpan.FromSeconds(30)));

        Assert.False(RetryPolicy.WillRetry(function, 1));
        Assert.True(RetryPolicy.WillRetryCrash(function, RetryPolicy.CrashRedeliveries));
        Assert.False(RetryPolicy.WillRetryCrash(function, RetryPolicy.CrashRedeliveries + 1));
        Assert.Equal(TimeSpan.Zero, RetryPolicy.DelayBeforeAttempt(function, 2));
    }

    private static DeployedFunctionSpec Function(Retries retries) => new()
    {
        FunctionId = Guid.NewGuid(), Name = "f", MaxConcurrentInputs = 1, Timeout = TimeSpan.FromMinutes(1),
        MaxRetries = retries.MaxRetries, BackoffCoefficient = retries.BackoffCoefficient, InitialDelay = retries.InitialDelay,
        MaxDelay = retries.MaxDelay,
    };
}
