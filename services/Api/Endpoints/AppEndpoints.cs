using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Modal.Api.Apps;
using Modal.Api.Authentication;
using Modal.Api.Calls;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Apps;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;
using Modal.Api.Web;

namespace Modal.Api.Endpoints;

/// <summary>
/// Apps by id (<c>ap-…</c>) or by name (<see cref="AppReferences"/>): deploy by name, create an ephemeral run, list,
/// read, follow the log, read the history, stop.
/// </summary>
public static partial class AppEndpoints
{
    /// <summary>Most apps one list returns.</summary>
    public const int MaxAppsPerList = 200;

    public static RouteGroupBuilder MapAppEndpoints(this RouteGroupBuilder v1)
    {
        var apps = v1.MapGroup("/apps").WithTags("Apps");
        apps.MapGet("/", ListAppsAsync).WithName("ListApps");
        apps.MapPost("/", CreateEphemeralAppAsync).WithName("CreateEphemeralApp").Accepts<CreateAppRequest>("application/json")
            .RequireAuthorization(ApiPolicies.ManageApps);
        apps.MapPut("/{name}", DeployAppAsync).WithName("DeployApp").Accepts<DeployAppRequest>("application/json")
            .RequireAuthorization(ApiPolicies.ManageApps);
        apps.MapGet("/{app}", GetAppAsync).WithName("GetApp");
        apps.MapGet("/{app}/deployments", GetAppHistoryAsync).WithName("GetAppHistory");
        apps.MapGet("/{app}/functions/{function}", GetFunctionAsync).WithName("GetFunction");
        apps.MapDelete("/{app}", StopAppAsync).WithName("StopApp").RequireAuthorization(ApiPolicies.ManageApps);
        apps.MapGet("/{app}/logs", GetAppLogsAsync).WithName("GetAppLogs");
        return v1;
    }

    /// <summary>
    /// Deploys the workspace's app of this name with exactly the given functions (a <see cref="DeployAppRequest"/>): a
    /// new version of the running deployed app (its functions keep their ids, and so their queues; functions no longer
    /// listed are removed), or a new app. The body is read, not bound to the record: each function's manifest is stored
    /// as sent, so options this Api does not interpret still reach the runner and the Scheduler, and a malformed
    /// function is reported by its index.
    /// </summary>
    public static async Task<Results<Ok<DeployedAppInfo>, ValidationProblem, ProblemHttpResult>> DeployAppAsync(
        string name, JsonElement body, ClaimsPrincipal caller, AppRegistry registry, SecretRequirements secrets, Images.ImageStore images, HttpRequest http, WebUrls urls,
        CancellationToken cancellationToken)
    {
        var (app, invalid, conflict) = await RegisterAsync(name, ephemeral: false, body, caller, registry, secrets, images, cancellationToken);
        if (app is null)
        {
            return invalid is not null ? invalid : conflict!;
        }
        return TypedResults.Ok(ToResponse(app, await urls.ForAsync(http, caller.WorkspaceId(), cancellationToken)));
    }

    /// <summary>
    /// Creates an ephemeral app (what <c>modal run</c> does, a <see cref="CreateAppRequest"/>): an app of its own with a
    /// new id, even when a deployed app has the same name; it is reached by its id and lives until stopped.
    /// </summary>
    public static async Task<Results<Created<DeployedAppInfo>, ValidationProblem, ProblemHttpResult>> CreateEphemeralAppAsync(
        JsonElement body, ClaimsPrincipal caller, AppRegistry registry, SecretRequirements secrets, Images.ImageStore images, HttpRequest http, WebUrls urls,
        CancellationToken cancellationToken)
    {
        var (app, invalid, conflict) = await RegisterAsync(name: null, ephemeral: true, body, caller, registry, secrets, images, cancellationToken);
        if (app is null)
        {
            return invalid is not null ? invalid : conflict!;
        }
        return TypedResults.Created($"/v1/apps/{AppIds.Format(app.Id)}", ToResponse(app, await urls.ForAsync(http, caller.WorkspaceId(), cancellationToken)));
    }

    // A deploy names its app in the route; a run names it in the body.
    private static async Task<(DeployedApp? App, ValidationProblem? Invalid, ProblemHttpResult? Conflict)> RegisterAsync(
        string? name, bool ephemeral, JsonElement body, ClaimsPrincipal caller, AppRegistry registry, SecretRequirements secrets,
        Images.ImageStore images, CancellationToken cancellationToken)
    {
        var (request, errors) = DeployBody.Read(body, nameInBody: name is null);
        name ??= request.Name ?? "";
        var bundleId = request.BundleId;
        var (manifests, functionErrors) = FunctionManifests.Read(request.Functions);
        foreach (var (field, messages) in functionErrors)
        {
            errors[field] = messages;
        }
        if (!AppReferences.IsValidName(name))
        {
            errors["name"] = [$"App name '{name}' is invalid: use 1-64 lowercase letters, digits, '-', '_' or '.' (and not the form of an app id, ap-…)."];
        }
        if (FunctionManifests.BundleIdError(bundleId) is { } bundleError)
        {
            errors["bundleId"] = [bundleError];
        }
        if (errors.Count > 0)
        {
            return (null, TypedResults.ValidationProblem(errors, title: $"App '{name}' cannot be deployed"), null);
        }

        var workspaceId = caller.WorkspaceId();
        var imageProblems = await Images.DeployImages.ResolveAsync(images, workspaceId, manifests);
        if (imageProblems.Count > 0)
        {
            return (null, TypedResults.ValidationProblem(imageProblems, title: $"App '{name}' cannot be deployed: an image it uses is not built"), null);
        }
        // Fail fast: a function whose secret is missing would otherwise fail only when its first container starts.
        var secretProblems = await secrets.FindProblemsAsync(workspaceId, manifests.Select(m => m.Signature), cancellationToken);
        if (secretProblems.Count > 0)
        {
            return (null, TypedResults.ValidationProblem(secretProblems, title: $"App '{name}' cannot be deployed: a secret it uses is missing"), null);
        }
        try
        {
            return (await registry.RegisterAsync(workspaceId, name, ephemeral, manifests, bundleId, cancellationToken), null, null);
        }
        catch (DbUpdateException) when (!ephemeral)
        {
            return (null, null, TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Deployed at the same time",
                detail: $"Another deploy of app '{name}' created it at the same moment; deploy again to update it."));
        }
    }

    /// <summary>The workspace's running apps (deployed and ephemeral), newest first; with <c>all</c>, stopped ones too.</summary>
    public static async Task<Ok<AppList>> ListAppsAsync(
        ClaimsPrincipal caller, ApiDbContext db, HttpRequest http, WebUrls urls, CancellationToken cancellationToken, bool all = false)
    {
        var workspaceId = caller.WorkspaceId();
        var apps = await db.Apps.AsNoTracking().Include(a => a.Functions)
            .Where(a => a.WorkspaceId == workspaceId && (all || a.State != AppStates.Stopped))
            .OrderByDescending(a => a.CreatedAt).Take(MaxAppsPerList).ToListAsync(cancellationToken);
        var maker = await urls.ForAsync(http, workspaceId, cancellationToken);
        return TypedResults.Ok(new AppList(apps.Select(app => ToResponse(app, maker)).ToList()));
    }

    public static async Task<Results<Ok<DeployedAppInfo>, ProblemHttpResult>> GetAppAsync(
        string app, ClaimsPrincipal caller, ApiDbContext db, HttpRequest http, WebUrls urls, CancellationToken cancellationToken)
    {
        var found = await db.Apps.AsNoTracking().Include(a => a.Functions).Referenced(caller.WorkspaceId(), app).FirstOrDefaultAsync(cancellationToken);
        return found is null ? CallTargets.AppNotFound(app) : TypedResults.Ok(ToResponse(found, await urls.ForAsync(http, caller.WorkspaceId(), cancellationToken)));
    }

    /// <summary>The app's deployments, newest first, as <c>modal app history</c> lists them.</summary>
    public static async Task<Results<Ok<AppHistory>, ProblemHttpResult>> GetAppHistoryAsync(
        string app, ClaimsPrincipal caller, ApiDbContext db, AppRegistry registry, CancellationToken cancellationToken)
    {
        var found = await db.Apps.AsNoTracking().Referenced(caller.WorkspaceId(), app).FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return CallTargets.AppNotFound(app);
        }
        var history = await registry.HistoryAsync(found.Id, cancellationToken);
        return TypedResults.Ok(new AppHistory(AppIds.Format(found.Id), found.Name,
            history.Select(h => new AppDeploymentInfo(h.Deployment.Version, h.Deployment.BundleId, h.Functions, h.Deployment.DeployedAt)).ToList()));
    }

    /// <summary>
    /// Stops an app for good: its functions cannot be called any more, its containers stop (running their exit hooks),
    /// inputs still queued fail. Deploying the name again makes a new app. Stopping a stopped app changes nothing.
    /// </summary>
    public static async Task<Results<Ok<DeployedAppInfo>, ProblemHttpResult>> StopAppAsync(
        string app, ClaimsPrincipal caller, ApiDbContext db, AppRegistry registry, HttpRequest http, WebUrls urls, CancellationToken cancellationToken)
    {
        var found = await db.Apps.Include(a => a.Functions).Referenced(caller.WorkspaceId(), app).FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return CallTargets.AppNotFound(app);
        }
        if (found.State != AppStates.Stopped)
        {
            await registry.StopAsync(found, cancellationToken);
        }
        return TypedResults.Ok(ToResponse(found, await urls.ForAsync(http, caller.WorkspaceId(), cancellationToken)));
    }

    /// <summary>
    /// What the app's functions printed, across calls, after position <c>after</c> (the <c>next</c> of the previous
    /// answer; none: from the oldest line kept). With <c>timeout</c> (seconds, at most 50) it waits that long for a
    /// first line, so a client can follow the log.
    /// </summary>
    public static async Task<Results<Ok<AppLogs>, ProblemHttpResult>> GetAppLogsAsync(
        string app, ClaimsPrincipal caller, ApiDbContext db, AppLogStore logs, TimeProvider clock, CancellationToken cancellationToken,
        string? after = null, double timeout = 0)
    {
        if (timeout is < 0 or > ApiLimits.MaxLongPollSeconds || double.IsNaN(timeout))
        {
            return CallEndpoints.InvalidWait("timeout");
        }
        if (after is not null && !StreamPosition().IsMatch(after))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid position",
                detail: $"'{after}' is not a log position; pass the 'next' of a previous answer.");
        }
        var found = await db.Apps.AsNoTracking().Referenced(caller.WorkspaceId(), app).FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return CallTargets.AppNotFound(app);
        }
        var deadline = clock.GetUtcNow().AddSeconds(timeout);
        while (true)
        {
            var lines = await logs.ReadAsync(found.Id, after, CallEndpoints.MaxLogLinesPerRequest);
            if (lines.Count > 0 || clock.GetUtcNow() >= deadline)
            {
                return TypedResults.Ok(new AppLogs(app, lines, lines.Count > 0 ? lines[^1].Id : after));
            }
            // Lines arrive in batches every quarter second at most (the runners' shipping interval).
            await Task.Delay(TimeSpan.FromMilliseconds(250), clock, cancellationToken);
        }
    }

    [GeneratedRegex(@"^\d+-\d+$")]
    private static partial Regex StreamPosition();

    public static async Task<Results<Ok<DeployedFunctionInfo>, ProblemHttpResult>> GetFunctionAsync(
        string app, string function, ClaimsPrincipal caller, ApiDbContext db, CallTargets targets, HttpRequest http, WebUrls urls,
        CancellationToken cancellationToken)
    {
        var (target, problem) = await targets.ResolveAsync(db, caller.WorkspaceId(), app, function, cancellationToken);
        if (target is null)
        {
            return problem!;
        }
        string? webUrl = null;
        var ephemeral = (target.Signature.Web is not null || target.Signature.Schedule is not null)
            && await db.Apps.AsNoTracking().Where(a => a.Id == target.AppId).Select(a => a.Ephemeral).SingleAsync(cancellationToken);
        if (target.Signature.Web is { } web)
        {
            var maker = await urls.ForAsync(http, caller.WorkspaceId(), cancellationToken);
            webUrl = WebEndpointNames.HostUrl(maker.HostLabel(target.AppName, ephemeral, function, web), maker.BaseDomain, maker.Ingress);
        }
        return TypedResults.Ok(new DeployedFunctionInfo(
            target.FunctionId, target.AppName, function, ToManifests(target.Signature.Parameters), target.Signature.ResultType, webUrl,
            ScheduleDescription(target.Signature, ephemeral)));
    }

    private static DeployedAppInfo ToResponse(DeployedApp app, WebUrlMaker urls) =>
        new(AppIds.Format(app.Id), app.Name, app.State, app.Ephemeral, app.Version, app.BundleId, app.CreatedAt, app.UpdatedAt, app.StoppedAt,
            app.Functions.OrderBy(f => f.Name).Select(f => ToResponse(app, f, urls)).ToList());

    private static DeployedFunctionInfo ToResponse(DeployedApp app, DeployedFunction function, WebUrlMaker urls)
    {
        var signature = FunctionSignature.Parse(function.ManifestJson);
        // A stopped app's endpoint is gone: no URL.
        var webUrl = app.State == AppStates.Stopped ? null : urls.HostUrl(app, function.Name, signature);
        return new DeployedFunctionInfo(function.Id, app.Name, function.Name, ToManifests(signature.Parameters), signature.ResultType, webUrl,
            app.State == AppStates.Stopped ? null : ScheduleDescription(signature, app.Ephemeral));
    }

    // Only a deployed app's schedule is active: a `modal run` shows none.
    private static string? ScheduleDescription(FunctionSignature signature, bool ephemeral) =>
        !ephemeral && signature.Schedule is { } schedule ? Schedules.FunctionSchedules.ToSpec(schedule).Spec?.Description : null;

    private static List<ParameterManifest> ToManifests(IEnumerable<ParameterSignature> parameters) =>
        parameters.Select(p => new ParameterManifest(p.Name, p.Type)).ToList();
}
