using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Modal.Contracts.Runners;
using Modal.Scheduler.Infrastructure;

namespace Modal.Scheduler.Endpoints;

/// <summary>A runner node as the Scheduler knows it.</summary>
public sealed record RunnerResponse(
    string RunnerId, bool Alive, DateTimeOffset LastReportedAt, double CpuCores, long MemoryMiB, IReadOnlyList<RunnerGpu> Gpus);

public static class RunnerEndpoints
{
    public static IEndpointRouteBuilder MapRunnerEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGroup("/v1/runners").WithTags("Runners")
            .MapGet("/", ListRunnersAsync).WithName("ListRunners");
        return routes;
    }

    public static async Task<Ok<List<RunnerResponse>>> ListRunnersAsync(
        SchedulerDbContext db, IOptions<SchedulerOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var aliveSince = clock.GetUtcNow() - options.Value.RunnerTimeout;
        var rows = await db.Runners.AsNoTracking().OrderBy(r => r.RunnerId).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(r => new RunnerResponse(
            r.RunnerId,
            r.LastReportedAt >= aliveSince,
            r.LastReportedAt,
            r.CpuCores,
            r.MemoryMiB,
            JsonSerializer.Deserialize<List<RunnerGpu>>(r.GpusJson) ?? [])).ToList());
    }
}
