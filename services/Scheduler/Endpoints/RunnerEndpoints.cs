using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Modal.Contracts.Runners;
using Modal.Scheduler.Autoscaling;

namespace Modal.Scheduler.Endpoints;

/// <summary>A runner node as the Scheduler knows it.</summary>
public sealed record RunnerResponse(
    string RunnerId, bool Alive, DateTimeOffset LastReportedAt, double CpuCores, long MemoryMiB, IReadOnlyList<RunnerGpu> Gpus);

public static class RunnerEndpoints
{
    public static IEndpointRouteBuilder MapRunnerEndpoints(this IEndpointRouteBuilder routes)
    {
        // Every node's size, GPUs and liveness, for the platform's operators: the Scheduler is internal, yet any process
        // on the node reaches it, a function's included.
        routes.MapGroup("/v1/runners").WithTags("Runners")
            .AddEndpointFilter(new RunnerKeyFilter(
                routes.ServiceProvider.GetRequiredService<IOptions<SchedulerOptions>>().Value.RunnerKey, "The runner list is for the platform's nodes and operators"))
            .MapGet("/", ListRunners).WithName("ListRunners");
        return routes;
    }

    /// <summary>
    /// The runners as the autoscaler sees them now, from their heartbeats (kept in memory: a runner silent past the
    /// timeout is given up, its containers placed elsewhere, and it leaves this list soon after).
    /// </summary>
    public static Ok<List<RunnerResponse>> ListRunners(ScalingState state, IOptions<SchedulerOptions> options, TimeProvider clock)
    {
        var aliveSince = clock.GetUtcNow() - options.Value.RunnerTimeout;
        return TypedResults.Ok(state.Runners().Select(runner => new RunnerResponse(
            runner.Report.RunnerId,
            runner.LastSeenAt >= aliveSince,
            runner.Report.ReportedAt,
            runner.Report.CpuCores,
            runner.Report.MemoryMiB,
            runner.Report.Gpus)).ToList());
    }
}
