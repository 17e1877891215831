using Quartz;

namespace Modal.Api.Schedules;

/// <summary>
/// Translates the Unix cron a Modal user writes (<c>0 9 * * 1-5</c>: minute, hour, day of month, month, day of week with
/// 0 or 7 for Sunday; six fields put seconds first) into the Quartz expression the Scheduler fires (seconds first,
/// Sunday = 1, <c>?</c> in the day field left open), and checks it with Quartz's own parser.
/// </summary>
public static class UnixCron
{
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    /// <summary>The Quartz expression, or the error a person can act on (then the expression is null).</summary>
    public static (string? Quartz, string? Error) ToQuartz(string cron)
    {
        var fields = cron.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is not (5 or 6))
        {
            return (null, $"cron \"{cron}\" has {fields.Length} fields; use five (minute hour day-of-month month day-of-week) or six with seconds first.");
        }
        var (seconds, rest) = fields.Length == 6 ? (fields[0], fields[1..]) : ("0", fields);
        var (minute, hour, dayOfMonth, month, dayOfWeek) = (rest[0], rest[1], Open(rest[2]), rest[3], Open(rest[4]));
        if (dayOfMonth != "*" && dayOfWeek != "*")
        {
            return (null, $"cron \"{cron}\" restricts both the day of month and the day of week; restrict one of them (Quartz, which fires schedules, cannot combine them).");
        }
        if (dayOfWeek == "*")
        {
            dayOfWeek = "?";
        }
        else
        {
            var (days, dayError) = Days(dayOfWeek);
            if (days is null)
            {
                return (null, $"cron \"{cron}\": day of week '{dayOfWeek}' {dayError}");
            }
            // Quartz counts Sunday as 1; a list of the days asked for needs no other translation.
            dayOfWeek = string.Join(',', days.Order().Select(d => d + 1));
            dayOfMonth = "?";
        }
        var quartz = string.Join(' ', seconds, minute, hour, dayOfMonth, month, dayOfWeek);
        try
        {
            _ = new CronExpression(quartz); // Parses, with Quartz's message when it cannot.
        }
        catch (FormatException e)
        {
            return (null, $"cron \"{cron}\" is invalid: {e.Message}");
        }
        return (quartz, null);
    }

    private static string Open(string field) => field == "?" ? "*" : field;

    // Days 0-6 (Sunday = 0) from a Unix day-of-week field: lists, ranges, steps, numbers 0-7 and names.
    private static (HashSet<int>? Days, string? Error) Days(string field)
    {
        var days = new HashSet<int>();
        foreach (var part in field.Split(','))
        {
            var (range, step) = part.Split('/') switch
            {
                [var r] => (r, "1"),
                [var r, var s] => (r, s),
                _ => (part, ""),
            };
            if (!int.TryParse(step, out var every) || every < 1)
            {
                return (null, $"has an invalid step in '{part}'.");
            }
            int first, last;
            if (range == "*")
            {
                (first, last) = (0, 6);
            }
            else if (range.Split('-') is [var from, var to])
            {
                if (Day(from) is not { } a || Day(to) is not { } b || a > b)
                {
                    return (null, $"has an invalid range '{range}' (use 0-7 or SUN-SAT, low to high).");
                }
                (first, last) = (a, b);
            }
            else if (Day(range) is { } single)
            {
                // "1/2" means from Monday every second day, as in Vixie cron.
                (first, last) = (single, part.Contains('/', StringComparison.Ordinal) ? 6 : single);
            }
            else
            {
                return (null, $"has '{range}', which is not a day (use 0-7 or SUN-SAT; 0 and 7 are Sunday).");
            }
            for (var day = first; day <= last; day += every)
            {
                days.Add(day % 7);
            }
        }
        return (days, null);
    }

    private static int? Day(string text) =>
        int.TryParse(text, out var number) ? number is >= 0 and <= 7 ? number : null
        : Array.IndexOf(DayNames, text.ToUpperInvariant()) is var index and >= 0 ? index : null;
}
