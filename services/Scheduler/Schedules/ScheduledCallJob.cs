using MassTransit;
using Modal.Contracts.Schedules;
using Modal.Scheduler.Leadership;
using Quartz;

namespace Modal.Scheduler.Schedules;

/// <summary>
/// What Quartz runs when a function's schedule fires (on whichever Scheduler of the cluster acquired the trigger):
/// publishes <see cref="ScheduleFired"/>, which the Api turns into the call. Publishing is all it does, so a firing
/// takes milliseconds however long the function runs.
/// </summary>
public sealed partial class ScheduledCallJob(IBus bus, SchedulerInstance instance, TimeProvider clock, ILogger<ScheduledCallJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var job = ScheduleJobs.Read(context.JobDetail);
        var scheduledAt = ScheduledInstant(context);
        var fired = new ScheduleFired
        {
            WorkspaceId = job.WorkspaceId,
            AppId = job.AppId,
            FunctionId = job.FunctionId,
            FunctionName = job.FunctionName,
            FunctionCallId = ScheduledCalls.IdFor(job.FunctionId, scheduledAt),
            ScheduledAt = scheduledAt,
            FiredAt = clock.GetUtcNow(),
            SchedulerInstance = instance.Id,
        };
        try
        {
            await bus.Publish(fired, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Quartz refires at once; the call id stays that of the tick, so a later success still makes one call.
            LogNotPublished(logger, e, job.FunctionName, scheduledAt);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            throw new JobExecutionException(e) { RefireImmediately = true };
        }
        LogFired(logger, job.FunctionName, scheduledAt, fired.FunctionCallId);
    }

    // A job recovered after its Scheduler died mid-firing runs under a trigger of its own: the tick it was firing is kept
    // in its data, so the recovered firing makes the same call.
    private static DateTimeOffset ScheduledInstant(IJobExecutionContext context) =>
        context.Recovering
        && context.MergedJobDataMap.TryGetString(SchedulerConstants.FailedJobOriginalTriggerScheduledFireTime, out var original)
        && long.TryParse(original, out var milliseconds)
            ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)
            : context.ScheduledFireTimeUtc ?? context.FireTimeUtc;

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule of '{Function}' fired for {ScheduledAt}: call {CallId}")]
    private static partial void LogFired(ILogger logger, string function, DateTimeOffset scheduledAt, string callId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The firing of '{Function}' for {ScheduledAt} could not be published; retrying")]
    private static partial void LogNotPublished(ILogger logger, Exception exception, string function, DateTimeOffset scheduledAt);
}
