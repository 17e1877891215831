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
        var functions = new List<RegisteredSchedule>();
        var query = new JobQuery { Group = GroupMatcher<JobKey>.GroupEquals(request.AppId.ToString()) };
        foreach (var key in await ScheduleJobs.AllKeysAsync(scheduler, query, context.CancellationToken))
        {
            if (await scheduler.GetJobDetail(key, context.CancellationToken) is not { } detail)
            {
                continue;
            }
            var job = ScheduleJobs.Read(detail);
            var next = new List<DateTimeOffset>();
            var triggers = await scheduler.QueryTriggers(new TriggerQuery { Job = key, Take = 100 }, context.CancellationToken);
            foreach (var header in triggers.Items)
            {
                if (await scheduler.GetTrigger(header.Key, context.CancellationToken) is not { } trigger)
                {
                    continue;
                }
                for (var at = trigger.NextFireTimeUtc; at is { } time && next.Count < count; at = trigger.GetFireTimeAfter(time))
                {
                    next.Add(time);
                }
            }
            functions.Add(new RegisteredSchedule
            {
                FunctionId = job.FunctionId, Description = job.Description, AppVersion = job.AppVersion, NextFireTimes = [.. next.Order().Take(count)],
            });
        }
        await context.RespondAsync(new AppSchedules { AppId = request.AppId, Functions = functions });
    }
}

public sealed class AppSchedulesConsumerDefinition(SchedulerInstance instance) : SchedulerInstanceDefinition<AppSchedulesConsumer>(instance, "schedules", 4);
