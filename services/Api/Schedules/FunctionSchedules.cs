using System.Globalization;
using Modal.Api.Contracts.Schedules;
using Modal.Api.Domain;
using Modal.Contracts.Schedules;
using Quartz;

namespace Modal.Api.Schedules;

/// <summary>
/// Checks a function's schedule at deploy and turns it into what the Scheduler registers (<see cref="ScheduleSpec"/>):
/// the cron translated for Quartz with its time zone, or the period.
/// </summary>
public static class FunctionSchedules
{
    /// <summary>What is wrong with the function's schedule (null when nothing is, or it has none).</summary>
    public static string? Error(FunctionSignature signature)
    {
        if (signature.Schedule is not { } schedule)
        {
            return null;
        }
        if (signature.Parameters.Count > 0)
        {
            return $"a scheduled function takes no arguments, and it has {signature.Parameters.Count} ({string.Join(", ", signature.Parameters.Select(p => p.Name))}).";
        }
        if (signature.ClassName is not null || signature.BatchMaxSize is not null || signature.Web is { Kind: not Contracts.Web.WebEndpointKinds.Function })
        {
            return "only a plain function can be scheduled (not a class's method, a batched function, an ASP.NET Core app or a server).";
        }
        return ToSpec(schedule).Error;
    }

    /// <summary>The schedule as the Scheduler registers it, or the error that keeps it from being one.</summary>
    public static (ScheduleSpec? Spec, string? Error) ToSpec(ScheduleManifest schedule)
    {
        if (schedule.Cron is { } cron)
        {
            if (schedule.PeriodMonths != 0 || schedule.PeriodSeconds != 0)
            {
                return (null, "a schedule is a cron expression or a period, not both.");
            }
            var zone = string.IsNullOrWhiteSpace(schedule.TimeZone) ? ScheduleManifest.DefaultTimeZone : schedule.TimeZone.Trim();
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _))
            {
                return (null, $"time zone '{zone}' is unknown; use an IANA name such as UTC, Europe/Paris or America/New_York.");
            }
            var (quartz, error) = ToQuartz(cron.Trim(), TimeZoneInfo.FindSystemTimeZoneById(zone));
            return quartz is null ? (null, error) : (new ScheduleSpec { Description = $"cron \"{cron.Trim()}\" ({zone})", QuartzCron = quartz, TimeZone = zone }, null);
        }
        if (schedule.PeriodMonths < 0 || schedule.PeriodSeconds < 0 || double.IsNaN(schedule.PeriodSeconds) || double.IsInfinity(schedule.PeriodSeconds))
        {
            return (null, "a period must not be negative.");
        }
        if (schedule.PeriodMonths > 0)
        {
            return schedule.PeriodSeconds > 0
                ? (null, "a period of months or years cannot also have weeks, days, hours, minutes or seconds.")
                : (new ScheduleSpec { Description = schedule.PeriodMonths == 1 ? "every month" : $"every {schedule.PeriodMonths} months", PeriodMonths = schedule.PeriodMonths }, null);
        }
        if (schedule.PeriodSeconds < ScheduleManifest.MinPeriodSeconds)
        {
            return (null, $"a period must be at least {ScheduleManifest.MinPeriodSeconds} second (was {schedule.PeriodSeconds.ToString(CultureInfo.InvariantCulture)} s).");
        }
        // Quartz counts in milliseconds.
        var period = TimeSpan.FromMilliseconds(Math.Round(schedule.PeriodSeconds * 1000));
        return (new ScheduleSpec { Description = $"every {Describe(period)}", Period = period }, null);
    }

    /// <summary>
    /// The Quartz spelling of a user's cron: five fields (and the <c>@daily</c>-style macros) are Unix crontab, read with
    /// Quartz's own Unix format (day of week 0-7, Sunday both 0 and 7; a restricted day of month and day of week fire on
    /// either, as in cron); six or seven are Quartz's form (seconds first). Null with the error when it does not parse or
    /// never fires (<c>0 0 31 2 *</c>).
    /// </summary>
    public static (string? Quartz, string? Error) ToQuartz(string cron, TimeZoneInfo zone)
    {
        var fields = cron.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        var format = fields == 5 || cron.StartsWith('@') ? CronFormat.Unix : CronFormat.Quartz;
        CronExpression expression;
        try
        {
            expression = CronExpression.Parse(cron, format).WithTimeZone(zone);
        }
        catch (FormatException e)
        {
            return (null, $"cron \"{cron}\" is invalid: {e.Message}");
        }
        return expression.GetNextValidTimeAfter(DateTimeOffset.UtcNow) is null
            ? (null, $"cron \"{cron}\" never fires (no such date comes again).")
            : (expression.CronExpressionString, null);
    }

    /// <summary>A period as a person writes it: <c>2s</c>, <c>1h30m</c>, <c>1d</c>, <c>2.5s</c>.</summary>
    public static string Describe(TimeSpan period)
    {
        var parts = new List<string>();
        if (period.Days > 0)
        {
            parts.Add($"{period.Days}d");
        }
        if (period.Hours > 0)
        {
            parts.Add($"{period.Hours}h");
        }
        if (period.Minutes > 0)
        {
            parts.Add($"{period.Minutes}m");
        }
        var seconds = period.Seconds + (period.Milliseconds / 1000.0);
        if (seconds > 0)
        {
            parts.Add($"{seconds.ToString("0.###", CultureInfo.InvariantCulture)}s");
        }
        return string.Concat(parts);
    }
}
