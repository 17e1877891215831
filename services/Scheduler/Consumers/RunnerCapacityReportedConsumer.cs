using MassTransit;
using Modal.Contracts.Runners;
using Modal.Scheduler.Autoscaling;

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
