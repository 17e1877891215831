using Modal.Contracts.Apps;

namespace Modal.GpuRunner.Domain;

/// <summary>
/// When an input that did not return is tried again, and after how long: the function's retries (the SDK's
/// <c>Retries</c>, Modal's <c>retries=</c>). Attempt 1 is the first run; attempt <c>n</c> is retry <c>n - 1</c>. The
/// first retry waits <c>InitialDelay</c>, each later one <c>BackoffCoefficient</c> times the one before, never longer
/// than <c>MaxDelay</c>. Single calls and map inputs both follow it.
/// </summary>
public static class RetryPolicy
{
    /// <summary>
    /// Deliveries of an input whose container crashes before it fails (a crash caused by the input itself): a crash may
    /// be the node's fault rather than the input's, so it is retried at least this often, whatever the function's retries.
    /// </summary>
    public const int CrashRedeliveries = 2;

    /// <summary>Whether an attempt that failed or timed out is tried again.</summary>
    public static bool WillRetry(DeployedFunctionSpec function, int failedAttempt)
    {
        ArgumentNullException.ThrowIfNull(function);
        return failedAttempt <= function.MaxRetries;
    }

    /// <summary>Whether an attempt whose container crashed is tried again (at least <see cref="CrashRedeliveries"/> times).</summary>
    public static bool WillRetryCrash(DeployedFunctionSpec function, int crashedAttempt)
    {
        ArgumentNullException.ThrowIfNull(function);
        return crashedAttempt <= Math.Max(function.MaxRetries, CrashRedeliveries);
    }

    /// <summary>
    /// How long attempt <paramref name="attempt"/> (2 or later) waits before it runs. An attempt past the function's
    /// retries (a crash's redelivery) does not wait.
    /// </summary>
    public static TimeSpan DelayBeforeAttempt(DeployedFunctionSpec function, int attempt)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 2);
        var retry = attempt - 1;
        if (retry > function.MaxRetries)
        {
            return TimeSpan.Zero;
        }
        var seconds = function.InitialDelay.TotalSeconds * Math.Pow(function.BackoffCoefficient, retry - 1);
        return seconds >= function.MaxDelay.TotalSeconds ? function.MaxDelay : TimeSpan.FromSeconds(seconds);
    }
}
