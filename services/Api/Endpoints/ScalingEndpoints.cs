using System.Security.Claims;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Modal.Api.Authentication;
using Modal.Api.Calls;
using Modal.Api.Contracts.Apps;
using Modal.Api.Infrastructure;
using Modal.Contracts.Scaling;

namespace Modal.Api.Endpoints;

/// <summary>The autoscaler of a deployed function: its stats, and runtime changes of its bounds (answered by the Scheduler).</summary>
public static class ScalingEndpoints
{
    private static readonly TimeSpan MinScaledownWindow = TimeSpan.FromSeconds(2), MaxScaledownWindow = TimeSpan.FromMinutes(20);

    public static RouteGroupBuilder MapScalingEndpoints(this RouteGroupBuilder v1)
    {
        var functions = v1.MapGroup("/apps/{app}/functions/{function}").WithTags("Autoscaling");
        functions.MapGet("/stats", GetFunctionStatsAsync).WithName("GetFunctionStats");
        functions.MapPut("/autoscaler", UpdateAutoscalerAsync).WithName("UpdateAutoscaler");
        return v1;
    }

    public static async Task<Results<Ok<FunctionStats>, ProblemHttpResult>> GetFunctionStatsAsync(
        string app, string function, ClaimsPrincipal caller, ApiDbContext db, CallTargets targets,
        IRequestClient<GetFunctionScalingStats> scheduler, CancellationToken cancellationToken)
    {
        var (target, problem) = await targets.ResolveAsync(db, caller.WorkspaceId(), app, function, cancellationToken);
        if (target is null)
        {
            return problem!;
        }
        var (stats, unanswered) = await AskSchedulerAsync(() => scheduler.GetResponse<FunctionScalingStats>(
            new GetFunctionScalingStats { FunctionId = target.FunctionId }, cancellationToken, RequestTimeout.After(s: 10)));
        return stats is null ? unanswered! : TypedResults.Ok(stats);
    }

    public static async Task<Results<Ok<FunctionStats>, ProblemHttpResult, ValidationProblem>> UpdateAutoscalerAsync(
        string app, string function, UpdateAutoscalerRequest request, ClaimsPrincipal caller, ApiDbContext db, CallTargets targets,
        IRequestClient<UpdateAutoscaler> scheduler, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.MinContainers is < 0)
        {
            errors["minContainers"] = [$"must not be negative (was {request.MinContainers})."];
        }
        if (request.MaxContainers is < 0)
        {
            errors["maxContainers"] = [$"must not be negative (was {request.MaxContainers})."];
        }
        if (request is { MinContainers: { } min, MaxContainers: { } max } && min > max)
        {
            errors["minContainers"] = [$"({min}) must not exceed maxContainers ({max})."];
        }
        if (request.BufferContainers is < 0)
        {
            errors["bufferContainers"] = [$"must not be negative (was {request.BufferContainers})."];
        }
        if (request.ScaledownWindowSeconds is { } seconds
            && (double.IsNaN(seconds) || seconds < MinScaledownWindow.TotalSeconds || seconds > MaxScaledownWindow.TotalSeconds))
        {
            errors["scaledownWindowSeconds"] = [$"must be between 2 and 1200 seconds (was {seconds})."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var (target, problem) = await targets.ResolveAsync(db, caller.WorkspaceId(), app, function, cancellationToken);
        if (target is null)
        {
            return problem!;
        }
        var update = new UpdateAutoscaler
        {
            FunctionId = target.FunctionId, MinContainers = request.MinContainers, MaxContainers = request.MaxContainers,
            BufferContainers = request.BufferContainers,
            ScaledownWindow = request.ScaledownWindowSeconds is { } window ? TimeSpan.FromSeconds(window) : null,
        };
        var (stats, unanswered) = await AskSchedulerAsync(() => scheduler.GetResponse<FunctionScalingStats>(update, cancellationToken, RequestTimeout.After(s: 10)));
        return stats is null ? unanswered! : TypedResults.Ok(stats);
    }

    private static async Task<(FunctionStats? Stats, ProblemHttpResult? Problem)> AskSchedulerAsync(Func<Task<Response<FunctionScalingStats>>> ask)
    {
        Response<FunctionScalingStats> response;
        try
        {
            response = await ask();
        }
        catch (RequestTimeoutException)
        {
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Scheduler unavailable",
                detail: "The Scheduler did not answer within 10 s; try again."));
        }
        var stats = response.Message;
        if (!stats.Deployed)
        {
            // The Api knows the function but the Scheduler has not heard of its deployment yet (or restarted a moment ago).
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Function not scaled yet",
                detail: "The Scheduler does not know this function's deployment yet; try again in a moment."));
        }
        return (new FunctionStats(stats.Backlog, stats.RunningInputs, stats.Containers, stats.MinContainers,
            stats.MaxContainers, stats.BufferContainers, stats.ScaledownWindow.TotalSeconds, stats.Gpu, stats.InputsWaitingForGpu, stats.GpuUnavailable), null);
    }
}
