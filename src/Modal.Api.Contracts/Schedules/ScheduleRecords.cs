namespace Modal.Api.Contracts.Schedules;

/// <summary>
/// A function's schedule on the wire (part of a function manifest): a cron expression, or a period. A deploy refuses one
/// that does not parse, names an unknown time zone, is shorter than <see cref="MinPeriodSeconds"/>, or sits on a
/// function that takes arguments.
/// </summary>
/// <param name="Cron">
/// Unix cron: five fields (minute, hour, day of month, month, day of week with 0 or 7 for Sunday), or six with seconds
/// first. Null for a period.
/// </param>
/// <param name="TimeZone">IANA time zone the cron expression is read in (default UTC).</param>
/// <param name="PeriodMonths">Months between firings (years count as 12); 0 when the period is fixed or for a cron.</param>
/// <param name="PeriodSeconds">Seconds between firings (weeks, days, hours and minutes included); 0 for a period of months or a cron.</param>
public sealed record ScheduleManifest(string? Cron = null, string? TimeZone = null, int PeriodMonths = 0, double PeriodSeconds = 0)
{
    /// <summary>The shortest period a schedule may have.</summary>
    public const double MinPeriodSeconds = 1;

    /// <summary>The time zone a cron expression is read in when none is given.</summary>
    public const string DefaultTimeZone = "UTC";
}

/// <summary>One firing of a schedule: the call it made.</summary>
/// <param name="FunctionCallId">The call (<c>GET /v1/calls/{id}</c>, its log at <c>/v1/calls/{id}/logs</c>).</param>
/// <param name="ScheduledAt">The instant the schedule named.</param>
/// <param name="State">The call's state now (Queued, Running, Succeeded, …; Expired once the call's record is gone).</param>
public sealed record ScheduleFiringInfo(string FunctionCallId, DateTimeOffset ScheduledAt, string State);

/// <summary>A deployed function's schedule: what it is, when it fires next, and its last firings.</summary>
/// <param name="Function">The function's name.</param>
/// <param name="Schedule">The schedule as a person reads it (<c>cron "0 9 * * 1-5" (UTC)</c>, <c>every 2s</c>).</param>
/// <param name="NextFireTimes">The next instants it fires, soonest first (empty while the Scheduler has not registered it yet).</param>
/// <param name="LastFirings">The latest firings, newest first.</param>
public sealed record FunctionScheduleInfo(
    string Function, string Schedule, IReadOnlyList<DateTimeOffset> NextFireTimes, IReadOnlyList<ScheduleFiringInfo> LastFirings);

/// <summary>An app's schedules (<c>GET /v1/apps/{app}/schedules</c>).</summary>
/// <param name="App">The app's name.</param>
/// <param name="Functions">Each scheduled function of the app.</param>
public sealed record AppScheduleList(string App, IReadOnlyList<FunctionScheduleInfo> Functions);
