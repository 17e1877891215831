using System.Security.Claims;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Modal.Api.Apps;
using Modal.Api.Authentication;
using Modal.Api.Calls;
using Modal.Api.Contracts.Schedules;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;
using Modal.Api.Schedules;
using Modal.Contracts.Schedules;

namespace Modal.Api.Endpoints;

/// <summary>An app's schedules: what each scheduled function runs on, when it fires next, and what its last firings made.</summary>
public static class ScheduleEndpoints
{
    /// <summary>Upcoming fire times listed per function.</summary>
    public const int NextFireTimes = 5;

    /// <summary>Latest firings listed per function.</summary>
    public const int LastFirings = 10;

    public static RouteGroupBuilder MapScheduleEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapGet("/apps/{app}/schedules", ListAppSchedulesAsync).WithName("ListAppSchedules").WithTags("Apps");
        return v1;
    }

    /// <summary>
    /// Each scheduled function of the app with its next fire times (from the Scheduler's Quartz store) and its last
    /// firings, newest first, with the state of the call each made. An ephemeral app (<c>modal run</c>) lists none: only
    /// deployed apps are scheduled. 503 when the Scheduler does not answer within 10 s.
    /// </summary>
    public static async Task<Results<Ok<AppScheduleList>, ProblemHttpResult>> ListAppSchedulesAsync(
        string app, ClaimsPrincipal caller, ApiDbContext db, CallStore calls, ScheduleFirings firings, IRequestClient<GetAppSchedules> scheduler,
        CancellationToken cancellationToken)
    {
        var found = await db.Apps.AsNoTracking().Include(a => a.Functions).Referenced(caller.WorkspaceId(), app).FirstOrDefaultAsync(cancellationToken);
        if (found is null || found.State == AppStates.Stopped)
        {
            return CallTargets.AppNotFound(app);
        }
        List<(DeployedFunction Function, FunctionSignature Signature)> scheduled = found.Ephemeral
            ? []
            : found.Functions.Select(f => (Function: f, Signature: FunctionSignature.Parse(f.ManifestJson)))
                .Where(f => f.Signature.Schedule is not null).OrderBy(f => f.Function.Name, StringComparer.Ordinal).ToList();
        if (scheduled.Count == 0)
        {
            return TypedResults.Ok(new AppScheduleList(found.Name, []));
        }
        AppSchedules registered;
        try
        {
            registered = (await scheduler.GetResponse<AppSchedules>(
                new GetAppSchedules { AppId = found.Id, Count = NextFireTimes }, cancellationToken, RequestTimeout.After(s: 10))).Message;
        }
        catch (RequestTimeoutException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Scheduler unavailable",
                detail: "The Scheduler did not answer within 10 s; try again.");
        }
        catch (RequestFaultException e)
        {
            // Its store (PostgreSQL) failed it: nothing the caller did.
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Schedules unavailable",
                detail: $"The Scheduler could not read the schedules: {e.Fault?.Exceptions.FirstOrDefault()?.Message ?? e.Message}");
        }
        var functions = new List<FunctionScheduleInfo>();
        foreach (var (function, signature) in scheduled)
        {
            // Registered for this version only: a Scheduler still on the previous deploy's schedule shows nothing yet.
            var next = registered.Functions.FirstOrDefault(r => r.FunctionId == function.Id && r.AppVersion == found.Version)?.NextFireTimes ?? [];
            var latest = new List<ScheduleFiringInfo>();
            foreach (var firing in await firings.LatestAsync(function.Id, LastFirings))
            {
                var call = await calls.GetAsync(firing.FunctionCallId);
                latest.Add(new ScheduleFiringInfo(firing.FunctionCallId, firing.ScheduledAt, call?.State ?? "Expired"));
            }
            functions.Add(new FunctionScheduleInfo(function.Name, FunctionSchedules.ToSpec(signature.Schedule!).Spec?.Description ?? "", next, latest));
        }
        return TypedResults.Ok(new AppScheduleList(found.Name, functions));
    }
}
