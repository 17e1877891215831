using Microsoft.Extensions.Options;
using Modal.Scheduler.Leadership;
using Quartz;

namespace Modal.Scheduler.Schedules;

/// <summary>
/// Keeps Quartz's clustered store in step with the <see cref="ScheduleBook"/>: on the leading Scheduler only (one
/// writer, so two instances never replace a trigger under each other), when a deploy or stop is heard, when this
/// instance becomes the leader (whatever its predecessor left half done), and every
/// <see cref="SchedulerOptions.ScheduleSyncInterval"/> besides. A function's job is replaced only when its app's
/// version changed, so a period keeps counting from its deploy however often this runs; every Scheduler of the cluster
/// fires what is registered, whichever leads.
/// </summary>
public sealed partial class ScheduleRegistrar(
    ScheduleBook book, ISchedulerFactory schedulers, LeaderLease lease, IOptions<SchedulerOptions> options, ILogger<ScheduleRegistrar> logger)
    : RoundLoop(lease)
{
    protected override TimeSpan Interval => options.Value.ScheduleSyncInterval;

    // PostgreSQL may be away; the next round registers with fresh figures.
    protected override void OnRoundFailed(Exception exception) => LogRoundFailed(logger, exception);

    protected override async Task RoundAsync(CancellationToken cancellationToken)
    {
        // Only while leading, and only as long as this term lasts: a leader whose lease lapses mid-round stops writing
        // before another instance can start, so the store has one writer at a time.
        // (Asked only when leading, so the wait is already complete: a follower leaves no waiter behind each round.)
        if (!Lease.IsLeader || Lease.WaitForLeadershipAsync(cancellationToken) is not { IsCompletedSuccessfully: true } term)
        {
            return;
        }
        using var leading = CancellationTokenSource.CreateLinkedTokenSource(term.Result, cancellationToken);
        try
        {
            await RegisterAsync(leading.Token);
        }
        catch (OperationCanceledException) when (term.Result.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            LogLeadershipLostMidRound(logger);
        }
    }

    /// <summary>One pass: removes what no deployed app asks for any more, adds or replaces what a deploy asks for.</summary>
    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var (apps, stopped, complete) = book.Snapshot();
        var wanted = apps.ToDictionary(a => a.AppId);
        var registered = (await ScheduleJobs.ReadAllAsync(scheduler, new JobQuery(), cancellationToken))
            .ToDictionary(job => ScheduleJobs.KeyOf(job.AppId, job.FunctionId));
        foreach (var (key, job) in registered)
        {
            // An app the book does not know is gone only once the book holds every deployed app.
            var keep = wanted.TryGetValue(job.AppId, out var app)
                ? app.Version == job.AppVersion && app.Functions.Any(f => f.FunctionId == job.FunctionId)
                : !complete && !stopped.Contains(job.AppId);
            if (!keep)
            {
                await scheduler.DeleteJob(key, cancellationToken);
                registered.Remove(key);
                LogRemoved(logger, job.FunctionName, job.AppVersion);
            }
        }
        book.Removed(stopped);
        foreach (var app in apps)
        {
            foreach (var function in app.Functions)
            {
                if (registered.ContainsKey(ScheduleJobs.KeyOf(app.AppId, function.FunctionId)))
                {
                    continue;
                }
                var job = ScheduleJobs.Job(app, function);
                try
                {
                    var first = await scheduler.ScheduleJob(job, ScheduleJobs.Trigger(app, function, job), new ScheduleJobOptions(), cancellationToken);
                    LogRegistered(logger, function.FunctionName, function.Spec.Description, app.Version, first);
                }
                catch (ObjectAlreadyExistsException)
                {
                    // A predecessor still leading a moment ago registered it meanwhile: the same version, the same trigger.
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled '{Function}' {Schedule} (app version {Version}); first firing {Next}")]
    private static partial void LogRegistered(ILogger logger, string function, string schedule, int version, DateTimeOffset next);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed the schedule of '{Function}' (app version {Version})")]
    private static partial void LogRemoved(ILogger logger, string function, int version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leadership ended while registering schedules; the rest is left to the new leader")]
    private static partial void LogLeadershipLostMidRound(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Registering schedules failed")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);
}
