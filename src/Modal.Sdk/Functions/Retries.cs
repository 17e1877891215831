namespace Modal;

/// <summary>
/// How a failed input is tried again, with Modal's bounds: up to 10 retries, a backoff coefficient of 1-10,
/// an initial delay of 0-60 s and a maximum delay of 1-60 s. Each attempt gets the function's full timeout.
/// </summary>
public sealed record Retries
{
    /// <summary>Largest <see cref="MaxRetries"/> accepted.</summary>
    public const int MaxRetriesLimit = 10;

    /// <summary>Creates a retry policy; invalid values throw <see cref="InvalidFunctionOptionsException"/> naming the value.</summary>
    /// <param name="maxRetries">Retries after the first attempt (0-10).</param>
    /// <param name="backoffCoefficient">Factor applied to the delay after each retry (1-10).</param>
    /// <param name="initialDelay">Delay before the first retry (0-60 s; default 1 s).</param>
    /// <param name="maxDelay">Upper bound of any delay (1-60 s; default 60 s).</param>
    public Retries(int maxRetries, double backoffCoefficient = 2.0, TimeSpan? initialDelay = null, TimeSpan? maxDelay = null)
    {
        MaxRetries = maxRetries;
        BackoffCoefficient = backoffCoefficient;
        InitialDelay = initialDelay ?? TimeSpan.FromSeconds(1);
        MaxDelay = maxDelay ?? TimeSpan.FromSeconds(60);

        Require(maxRetries is >= 0 and <= MaxRetriesLimit, "Retries.MaxRetries", $"must be between 0 and {MaxRetriesLimit} (was {maxRetries})");
        Require(backoffCoefficient is >= 1 and <= 10, "Retries.BackoffCoefficient", $"must be between 1 and 10 (was {backoffCoefficient})");
        Require(InitialDelay >= TimeSpan.Zero && InitialDelay <= TimeSpan.FromSeconds(60), "Retries.InitialDelay",
            $"must be between 0 and 60 seconds (was {InitialDelay.TotalSeconds} s)");
        Require(MaxDelay >= TimeSpan.FromSeconds(1) && MaxDelay <= TimeSpan.FromSeconds(60), "Retries.MaxDelay",
            $"must be between 1 and 60 seconds (was {MaxDelay.TotalSeconds} s)");
    }

    /// <summary>Retries after the first attempt.</summary>
    public int MaxRetries { get; }

    /// <summary>Factor applied to the delay after each retry.</summary>
    public double BackoffCoefficient { get; }

    /// <summary>Delay before the first retry.</summary>
    public TimeSpan InitialDelay { get; }

    /// <summary>Upper bound of any delay.</summary>
    public TimeSpan MaxDelay { get; }

    /// <summary>A plain count, as Modal reads <c>retries=N</c>: a fixed 1 s delay between attempts.</summary>
    /// <param name="maxRetries">Retries after the first attempt (0-10).</param>
    public static Retries Fixed(int maxRetries) => new(maxRetries, backoffCoefficient: 1.0);

    /// <summary>Lets <c>Retries = 3</c> mean <see cref="Fixed(int)"/>.</summary>
    /// <param name="maxRetries">Retries after the first attempt.</param>
    public static implicit operator Retries(int maxRetries) => Fixed(maxRetries);

    /// <summary>The delay before retry number <paramref name="retry"/> (1 for the first retry).</summary>
    /// <param name="retry">Which retry, from 1 to <see cref="MaxRetries"/>.</param>
    public TimeSpan DelayBeforeRetry(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var seconds = InitialDelay.TotalSeconds * Math.Pow(BackoffCoefficient, retry - 1);
        return seconds >= MaxDelay.TotalSeconds ? MaxDelay : TimeSpan.FromSeconds(seconds);
    }

    private static void Require(bool valid, string option, string rule)
    {
        if (!valid)
        {
            throw new InvalidFunctionOptionsException(option, $"{option} {rule}.");
        }
    }
}
