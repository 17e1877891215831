namespace Modal.Contracts.Schedules;

/// <summary>
/// When a deployed function runs by itself (part of <c>DeployedFunctionSpec</c>), already checked and translated by the
/// Api: either a Quartz cron expression in a time zone, or a period counted from the deploy. Ephemeral apps
/// (<c>modal run</c>) carry none: schedules run only while an app is deployed.
/// </summary>
public sealed record ScheduleSpec
{
    /// <summary>The user's schedule as a person reads it (<c>cron "0 9 * * 1-5" (Europe/Paris)</c>, <c>every 2s</c>).</summary>
    public required string Description { get; init; }

    /// <summary>A Quartz cron expression (seconds first, <c>?</c> in one day field), translated from the user's Unix cron; null for a period.</summary>
    public string? QuartzCron { get; init; }

    /// <summary>IANA time zone the cron expression is read in.</summary>
    public string TimeZone { get; init; } = "UTC";

    /// <summary>Calendar months between firings (a period of months or years fires on the same day each time); 0 otherwise.</summary>
    public int PeriodMonths { get; init; }

    /// <summary>Fixed time between firings (a period of weeks, days, hours, minutes or seconds); null for a cron or a period of months.</summary>
    public TimeSpan? Period { get; init; }
}

/// <summary>
/// Event (Scheduler → Api and anyone): a function's schedule fired for <see cref="ScheduledAt"/>. The Api turns it into a
/// call with <see cref="FunctionCallId"/>, which is derived from the function and the scheduled instant, so a firing
/// delivered twice (or fired twice during a Scheduler's failover) still makes one call.
/// </summary>
public sealed record ScheduleFired
{
    public required Guid WorkspaceId { get; init; }
    public required Guid AppId { get; init; }
    public required Guid FunctionId { get; init; }
    public required string FunctionName { get; init; }

    /// <summary>The call this firing makes (<c>fc-…</c>).</summary>
    public required string FunctionCallId { get; init; }

    /// <summary>The instant the schedule named; a firing late after an outage keeps the instant it was due at.</summary>
    public required DateTimeOffset ScheduledAt { get; init; }

    public required DateTimeOffset FiredAt { get; init; }

    /// <summary>The Scheduler instance whose Quartz fired it.</summary>
    public required string SchedulerInstance { get; init; }
}

/// <summary>Request (Api → Scheduler): the next fire times of an app's schedules, answered with <see cref="AppSchedules"/>.</summary>
public sealed record GetAppSchedules
{
    public required Guid AppId { get; init; }

    /// <summary>How many upcoming fire times to list per function.</summary>
    public int Count { get; init; } = 5;
}

/// <summary>Answer to <see cref="GetAppSchedules"/>: what is registered in Quartz for the app now.</summary>
public sealed record AppSchedules
{
    public required Guid AppId { get; init; }
    public required IReadOnlyList<RegisteredSchedule> Functions { get; init; }
}

/// <summary>One function's registered schedule.</summary>
public sealed record RegisteredSchedule
{
    public required Guid FunctionId { get; init; }
    public required string Description { get; init; }

    /// <summary>The app version whose deploy registered it.</summary>
    public required int AppVersion { get; init; }

    public required IReadOnlyList<DateTimeOffset> NextFireTimes { get; init; }
}
