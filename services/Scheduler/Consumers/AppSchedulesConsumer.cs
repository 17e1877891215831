using MassTransit;
using Modal.Contracts.Schedules;
using Modal.Scheduler.Leadership;
using Modal.Scheduler.Schedules;
using Quartz;

namespace Modal.Scheduler.Consumers;

/// <summary>Answers the Api's <see cref="GetAppSchedules"/> from Quartz's store (shared by the cluster: any instance knows).</summary>
public sealed class AppSchedulesConsumer(ISchedulerFactory schedulers) : IConsumer<GetAppSchedules>
{
    public async Task Consume(ConsumeContext<GetAppSchedules> context)
    {
        var request = context.Message;
        var count = Math.Clamp(request.Count, 0, 100);
        var scheduler = await schedulers.GetScheduler(context.CancellationToken);
        var query = new JobQuery { Group = GroupMatcher<JobKey>.GroupEquals(request.AppId.ToString()) };
        var jobs = await ScheduleJobs.ReadAllAsync(scheduler, query, context.CancellationToken);
        // One trigger per job, named as the job is: read them all at once.
        var triggers = (await scheduler.GetTriggers([.. jobs.Select(job => ScheduleJobs.TriggerKeyOf(job.AppId, job.FunctionId))], context.CancellationToken))
            .ToDictionary(trigger => trigger.Key);
        var functions = jobs.Select(job => new RegisteredSchedule
        {
            FunctionId = job.FunctionId,
            Description = job.Description,
            AppVersion = job.AppVersion,
            NextFireTimes = triggers.TryGetValue(ScheduleJobs.TriggerKeyOf(job.AppId, job.FunctionId), out var trigger) ? NextFireTimes(trigger, count) : [],
        }).ToList();
        await context.RespondAsync(new AppSchedules { AppId = request.AppId, Functions = functions });
    }

    private static List<DateTimeOffset> NextFireTimes(ITrigger trigger, int count)
    {
        var next = new List<DateTimeOffset>();
        for (var at = trigger.NextFireTimeUtc; at is { } time && next.Count < count; at = trigger.GetFireTimeAfter(time))
        {
            next.Add(time);
        }
        return next;
    }
}

public sealed class AppSchedulesConsumerDefinition(SchedulerInstance instance) : SchedulerInstanceDefinition<AppSchedulesConsumer>(instance, "schedules", 4);
