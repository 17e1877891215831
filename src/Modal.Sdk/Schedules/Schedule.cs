using Modal.Api.Contracts.Schedules;

namespace Modal;

/// <summary>
/// When a function runs by itself, set as <see cref="FunctionOptions.Schedule"/> (Modal's <c>schedule=</c>): a
/// <see cref="Cron"/> expression or a <see cref="Period"/>. A schedule is active only while its app is deployed
/// (<c>modal deploy</c>; <c>modal run</c> does not schedule); a redeploy replaces the app's schedules and stopping the
/// app removes them. The function must take no arguments. Each firing is a normal call: queued, retried, logged, with
/// its result kept (its origin is <c>schedule</c>). After an outage a missed firing runs once, late, not once per tick missed.
/// </summary>
public abstract record Schedule
{
    // Only the SDK's own kinds: the platform knows these two.
    private protected Schedule()
    {
    }

    /// <summary>Throws <see cref="InvalidFunctionOptionsException"/> for a schedule the platform would refuse.</summary>
    public abstract void Validate();

    /// <summary>The wire form (<see cref="ScheduleManifest"/>).</summary>
    internal abstract ScheduleManifest ToManifest();

    private protected static InvalidFunctionOptionsException Invalid(string rule) =>
        new(nameof(FunctionOptions.Schedule), $"FunctionOptions.Schedule {rule}.");
}

/// <summary>
/// A cron schedule (Modal's <c>modal.Cron</c>): five Unix crontab fields — minute, hour, day of month, month, day of
/// week (0 or 7 is Sunday; names such as MON work) — or a macro such as <c>@daily</c>; for seconds, Quartz's own form of
/// six or seven fields (seconds first, day of week 1-7 from Sunday, e.g. <c>*/5 * * * * ?</c>). Read in
/// <see cref="TimeZone"/> (an IANA name, UTC by default), so <c>new Cron("0 6 * * *", "America/New_York")</c> follows
/// daylight saving. The platform checks the expression when the app is deployed (one that never fires is refused too).
/// </summary>
/// <example><code>new FunctionOptions { Schedule = new Cron("0 9 * * 1-5") } // weekdays at 09:00 UTC</code></example>
/// <param name="Expression">The cron expression.</param>
/// <param name="TimeZone">The IANA time zone it is read in.</param>
public sealed record Cron(string Expression, string TimeZone = ScheduleManifest.DefaultTimeZone) : Schedule
{
    /// <inheritdoc />
    public override void Validate()
    {
        if (string.IsNullOrWhiteSpace(Expression)
            || (!Expression.TrimStart().StartsWith('@') && Expression.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length is not (5 or 6 or 7)))
        {
            throw Invalid($"cron expression must have five fields (minute hour day-of-month month day-of-week), or six or seven in Quartz's form with seconds first (was '{Expression}')");
        }
        if (string.IsNullOrWhiteSpace(TimeZone))
        {
            throw Invalid("time zone must be an IANA name such as UTC or Europe/Paris");
        }
    }

    internal override ScheduleManifest ToManifest() => new(Cron: Expression.Trim(), TimeZone: TimeZone.Trim());

    /// <inheritdoc />
    public override string ToString() => $"cron \"{Expression}\" ({TimeZone})";
}

/// <summary>
/// A schedule that fires every given interval (Modal's <c>modal.Period</c>), counted from the deploy: the first firing
/// is one period after <c>modal deploy</c>, and a redeploy starts the count again (use <see cref="Cron"/> for times not
/// moved by deploys). Months and years fire on the same day each time; the rest is a fixed length. At least 1 second.
/// </summary>
/// <example><code>new FunctionOptions { Schedule = new Period(hours: 4) }</code></example>
public sealed record Period : Schedule
{
    /// <summary>A period of calendar units (only <paramref name="seconds"/> may have a fraction).</summary>
    /// <param name="years">Years between firings (12 months each).</param>
    /// <param name="months">Months between firings.</param>
    /// <param name="weeks">Weeks between firings.</param>
    /// <param name="days">Days between firings.</param>
    /// <param name="hours">Hours between firings.</param>
    /// <param name="minutes">Minutes between firings.</param>
    /// <param name="seconds">Seconds between firings.</param>
    public Period(int years = 0, int months = 0, int weeks = 0, int days = 0, int hours = 0, int minutes = 0, double seconds = 0)
    {
        Months = checked((years * 12) + months);
        Length = TimeSpan.FromDays((weeks * 7) + days) + TimeSpan.FromHours(hours) + TimeSpan.FromMinutes(minutes) + TimeSpan.FromSeconds(seconds);
    }

    /// <summary>A fixed period.</summary>
    /// <param name="length">Time between firings.</param>
    public Period(TimeSpan length)
    {
        Length = length;
    }

    /// <summary>Calendar months between firings (years included).</summary>
    public int Months { get; }

    /// <summary>Fixed time between firings (weeks, days, hours, minutes and seconds).</summary>
    public TimeSpan Length { get; }

    /// <inheritdoc />
    public override void Validate()
    {
        if (Months < 0 || Length < TimeSpan.Zero)
        {
            throw Invalid("period must not be negative");
        }
        if (Months > 0 && Length > TimeSpan.Zero)
        {
            throw Invalid("period of months or years cannot also have weeks, days, hours, minutes or seconds");
        }
        if (Months == 0 && Length.TotalSeconds < ScheduleManifest.MinPeriodSeconds)
        {
            throw Invalid($"period must be at least 1 second (was {Length.TotalSeconds} s)");
        }
    }

    internal override ScheduleManifest ToManifest() => new(PeriodMonths: Months, PeriodSeconds: Length.TotalSeconds);

    /// <inheritdoc />
    public override string ToString() => Months > 0 ? $"every {Months} month(s)" : $"every {Length}";
}
