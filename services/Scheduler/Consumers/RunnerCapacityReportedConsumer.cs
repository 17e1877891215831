using MassTransit;
using Modal.Contracts.Runners;
using Modal.Scheduler.Autoscaling;
using Modal.Scheduler.Leadership;

namespace Modal.Scheduler.Consumers;

/// <summary>
/// Keeps the autoscaler's view of runners and their containers current from heartbeats. That view is the only one:
/// heartbeats are not stored, since every Scheduler rebuilds it within a heartbeat interval of starting.
/// </summary>
public sealed class RunnerCapacityReportedConsumer(ScalingState state) : IConsumer<RunnerCapacityReported>
{
    public Task Consume(ConsumeContext<RunnerCapacityReported> context)
    {
        state.Report(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Every Scheduler instance hears every heartbeat (a shared queue would split them between instances, and each would
/// think the other's runners silent). Reports are applied in any order: an older one than the last is ignored.
/// </summary>
public sealed class RunnerCapacityReportedConsumerDefinition(SchedulerInstance instance)
    : SchedulerInstanceDefinition<RunnerCapacityReportedConsumer>(instance, "heartbeats", 8);
