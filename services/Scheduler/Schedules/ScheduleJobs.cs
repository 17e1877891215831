using System.Globalization;
using Quartz;

namespace Modal.Scheduler.Schedules;

/// <summary>A scheduled function as Quartz stores it (job data are strings: the store keeps them as properties).</summary>
public sealed record ScheduleJob(Guid WorkspaceId, Guid AppId, Guid FunctionId, string FunctionName, int AppVersion, string Description);

/// <summary>
/// How a function's schedule maps onto Quartz: one job per function (named by the function's id, grouped by its app's
/// id) with one trigger, built from the <see cref="DesiredSchedule"/> of the app's deployed version. Misfires — ticks
/// missed while no Scheduler ran, or past Quartz's misfire threshold — fire once, late, and the schedule goes on
/// (Quartz's FireAndProceed), as Modal does after an outage; not a burst of every tick missed.
/// </summary>
public static class ScheduleJobs
{
    private const string WorkspaceKey = "workspace", AppKey = "app", FunctionKey = "function", NameKey = "name", VersionKey = "version", DescriptionKey = "description";

    public static JobKey KeyOf(Guid appId, Guid functionId) => new(functionId.ToString(), appId.ToString());

    /// <summary>A function's one trigger, named as its job is.</summary>
    public static TriggerKey TriggerKeyOf(Guid appId, Guid functionId) => new(functionId.ToString(), appId.ToString());

    public static IJobDetail Job(DesiredAppSchedules app, DesiredSchedule function) =>
        JobBuilder.Create<ScheduledCallJob>()
            .WithIdentity(KeyOf(app.AppId, function.FunctionId))
            .WithDescription($"{function.FunctionName}: {function.Spec.Description}")
            .UsingJobData(WorkspaceKey, app.WorkspaceId.ToString())
            .UsingJobData(AppKey, app.AppId.ToString())
            .UsingJobData(FunctionKey, function.FunctionId.ToString())
            .UsingJobData(NameKey, function.FunctionName)
            .UsingJobData(VersionKey, app.Version.ToString(CultureInfo.InvariantCulture))
            .UsingJobData(DescriptionKey, function.Spec.Description)
            // A Scheduler that dies mid-firing: another runs the firing again (same tick, same call id).
            .RequestRecovery(true)
            .Build();

    public static ITrigger Trigger(DesiredAppSchedules app, DesiredSchedule function, IJobDetail job)
    {
        var spec = function.Spec;
        var trigger = TriggerBuilder.Create(TimeProvider.System).WithIdentity(TriggerKeyOf(app.AppId, function.FunctionId)).ForJob(job);
        if (spec.QuartzCron is { } cron)
        {
            // Ticks from the deploy on; the time zone keeps local times across daylight saving.
            return trigger.StartAt(app.DeployedAt)
                .WithSchedule(CronScheduleBuilder.Create(cron).InTimeZone(TimeZoneInfo.FindSystemTimeZoneById(spec.TimeZone))
                    .WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
                .Build();
        }
        if (spec.PeriodMonths > 0)
        {
            // A period counts from the deploy: the first firing is one period after it (a redeploy starts again).
            return trigger.StartAt(app.DeployedAt.AddMonths(spec.PeriodMonths))
                .WithSchedule(CalendarIntervalScheduleBuilder.Create().WithInterval(spec.PeriodMonths, IntervalUnit.Month).InTimeZone(TimeZoneInfo.Utc)
                    .WithMisfireInstruction(CalendarIntervalTriggerMisfireInstruction.FireAndProceed))
                .Build();
        }
        var period = spec.Period ?? throw new InvalidOperationException($"The schedule of '{function.FunctionName}' has neither a cron nor a period.");
        var (interval, unit) = period.Milliseconds == 0 && period.TotalSeconds <= int.MaxValue
            ? ((int)period.TotalSeconds, IntervalUnit.Second)
            : ((int)Math.Min(period.TotalMilliseconds, int.MaxValue), IntervalUnit.Millisecond);
        return trigger.StartAt(app.DeployedAt + period)
            .WithSchedule(CalendarIntervalScheduleBuilder.Create().WithInterval(interval, unit).InTimeZone(TimeZoneInfo.Utc)
                .WithMisfireInstruction(CalendarIntervalTriggerMisfireInstruction.FireAndProceed))
            .Build();
    }

    /// <summary>
    /// The scheduled functions <paramref name="query"/> matches (all, or one app's group), read in one batch per page of
    /// keys rather than a query per job.
    /// </summary>
    public static async Task<IReadOnlyList<ScheduleJob>> ReadAllAsync(IScheduler scheduler, JobQuery query, CancellationToken cancellationToken)
    {
        const int PageSize = 500;
        var jobs = new List<ScheduleJob>();
        for (var skip = 0; ; skip += PageSize)
        {
            var page = await scheduler.QueryJobs(query with { Skip = skip, Take = PageSize }, cancellationToken);
            if (page.Items.Count > 0)
            {
                var details = await scheduler.GetJobDetails([.. page.Items.Select(job => job.Key)], cancellationToken);
                jobs.AddRange(details.Select(Read));
            }
            if (!page.HasMore || page.Items.Count == 0)
            {
                return jobs;
            }
        }
    }

    public static ScheduleJob Read(IJobDetail job)
    {
        var data = job.JobDataMap;
        return new ScheduleJob(
            Guid.Parse(data.GetString(WorkspaceKey)!), Guid.Parse(data.GetString(AppKey)!), Guid.Parse(data.GetString(FunctionKey)!),
            data.GetString(NameKey)!, int.Parse(data.GetString(VersionKey)!, CultureInfo.InvariantCulture), data.GetString(DescriptionKey) ?? "");
    }
}
