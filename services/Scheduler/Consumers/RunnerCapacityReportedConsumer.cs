using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Modal.Contracts.Runners;
using Modal.Scheduler.Autoscaling;
using Modal.Scheduler.Infrastructure;

namespace Modal.Scheduler.Consumers;

/// <summary>Keeps the autoscaler's view of runners and their containers, and the runner table, current from heartbeats.</summary>
public sealed class RunnerCapacityReportedConsumer(SchedulerDbContext db, ScalingState state) : IConsumer<RunnerCapacityReported>
{
    public async Task Consume(ConsumeContext<RunnerCapacityReported> context)
    {
        var report = context.Message;
        state.Report(report);
        var gpusJson = JsonSerializer.Serialize(report.Gpus);
        var freeGpus = report.Gpus.Count(g => !g.Allocated);

        // Heartbeats can arrive out of order after a redelivery: an older report never overwrites a newer one.
        await db.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO runners (runner_id, gpu_count, free_gpu_count, cpu_cores, memory_mib, gpus, last_reported_at)
            VALUES ({report.RunnerId}, {report.Gpus.Count}, {freeGpus}, {report.CpuCores}, {report.MemoryMiB}, {gpusJson}::jsonb, {report.ReportedAt})
            ON CONFLICT (runner_id) DO UPDATE SET
                gpu_count = EXCLUDED.gpu_count, free_gpu_count = EXCLUDED.free_gpu_count, cpu_cores = EXCLUDED.cpu_cores,
                memory_mib = EXCLUDED.memory_mib, gpus = EXCLUDED.gpus, last_reported_at = EXCLUDED.last_reported_at
            WHERE runners.last_reported_at <= EXCLUDED.last_reported_at
            """,
            context.CancellationToken);
    }
}

public sealed class RunnerCapacityReportedConsumerDefinition : ConsumerDefinition<RunnerCapacityReportedConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<RunnerCapacityReportedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // A heartbeat that cannot be stored is replaced by the next one within seconds; retry briefly, then drop.
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(100, 500, 1000));
    }
}
