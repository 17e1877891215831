using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using MassTransit;
using Modal.Api.Apps;
using Modal.Api.Authentication;
using Modal.Api.Calls;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Apps;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;
using Modal.Contracts.Apps;
using Modal.Contracts.Runners;

namespace Modal.Api.Endpoints;

public static partial class AppEndpoints
{
    public static RouteGroupBuilder MapAppEndpoints(this RouteGroupBuilder v1)
    {
        var apps = v1.MapGroup("/apps").WithTags("Apps");
        apps.MapPut("/{name}", DeployAppAsync).WithName("DeployApp").Accepts<DeployAppRequest>("application/json");
        apps.MapGet("/{name}", GetAppAsync).WithName("GetApp");
        apps.MapGet("/{app}/functions/{function}", GetFunctionAsync).WithName("GetFunction");
        apps.MapDelete("/{name}", StopAppAsync).WithName("StopApp");
        apps.MapGet("/{name}/logs", GetAppLogsAsync).WithName("GetAppLogs");
        return v1;
    }

    /// <summary>
    /// Creates or updates an app with exactly the given functions (a <see cref="DeployAppRequest"/>). A function keeps
    /// its id (and so its queue) across deploys; functions no longer listed are removed. The body is read, not bound to
    /// the record: each function's manifest is stored as sent, so options this Api does not interpret still reach the
    /// runner and the Scheduler, and a malformed function is reported by its index.
    /// </summary>
    public static async Task<Results<Ok<DeployedAppInfo>, ValidationProblem>> DeployAppAsync(
        string name, JsonElement body, ClaimsPrincipal caller, ApiDbContext db, CallTargets targets, IPublishEndpoint events,
        SecretRequirements secrets, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (request, errors) = DeployBody.Read(body);
        if (!NamePattern().IsMatch(name))
        {
            errors["name"] = [$"App name '{name}' is invalid: use 1-64 lowercase letters, digits, '-', '_' or '.'."];
        }
        if (request.BundleId is { } bundle && (bundle.Length != 64 || !bundle.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f')))
        {
            errors["bundleId"] = [$"'{bundle}' is not a bundle id (the SHA-256 of its manifest blob, lowercase hex)."];
        }
        var manifests = new List<(FunctionSignature Signature, string Json)>();
        foreach (var (element, index) in request.Functions.Select((f, i) => (f, i)))
        {
            FunctionSignature? signature = null;
            try
            {
                signature = element.Deserialize<FunctionSignature>(FunctionSignature.Json);
            }
            catch (JsonException e)
            {
                errors[$"functions[{index}]"] = [$"Not a function manifest: {e.Message}"];
                continue;
            }
            if (signature is null || signature.Name is null || !FunctionNamePattern().IsMatch(signature.Name))
            {
                errors[$"functions[{index}].name"] = [$"Function name '{signature?.Name}' is invalid: use 1-64 letters, digits, '-', '_' or '.'."];
                continue;
            }
            if (signature.Parameters is null || signature.Parameters.Any(p => string.IsNullOrWhiteSpace(p.Name)))
            {
                errors[$"functions[{index}].parameters"] = ["Every parameter needs a name (an empty list is fine)."];
                continue;
            }
            var badGpus = (signature.Gpu is null ? [] : new[] { signature.Gpu }).Concat(signature.GpuFallbacks ?? [])
                .Select(spec => GpuRequest.TryParse(spec, out _, out var error) ? null : error)
                .OfType<string>().ToArray();
            if (badGpus.Length > 0)
            {
                errors[$"functions[{index}].gpu"] = badGpus.Select(error => $"{signature.Name}: {error}").ToArray();
                continue;
            }
            // The runner turns these into the container's cgroup limits; the SDK checks the same bounds before a deploy.
            if (signature.Cpu is not (> 0 and <= 64) || signature.MemoryMiB is not (>= 1 and <= 1024 * 1024))
            {
                errors[$"functions[{index}].resources"] =
                    [$"{signature.Name}: cpu must be more than 0 and at most 64 (was {signature.Cpu}); memoryMiB between 1 and 1048576 (was {signature.MemoryMiB})."];
                continue;
            }
            if (signature.Secrets is { } used && used.Any(s => s is null || string.IsNullOrWhiteSpace(s.Name)))
            {
                errors[$"functions[{index}].secrets"] = ["Every secret needs a name."];
                continue;
            }
            manifests.Add((signature with { TimeoutSeconds = signature.TimeoutSeconds <= 0 ? 300 : signature.TimeoutSeconds }, element.GetRawText()));
        }
        foreach (var duplicate in manifests.GroupBy(m => m.Signature.Name).Where(g => g.Count() > 1))
        {
            errors[$"functions.{duplicate.Key}"] = [$"Function '{duplicate.Key}' is listed more than once."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: $"App '{name}' cannot be deployed");
        }

        var workspaceId = caller.WorkspaceId();
        // Fail fast: a function whose secret is missing would otherwise fail only when its first container starts.
        var secretProblems = await secrets.FindProblemsAsync(workspaceId, manifests.Select(m => m.Signature), cancellationToken);
        if (secretProblems.Count > 0)
        {
            return TypedResults.ValidationProblem(secretProblems, title: $"App '{name}' cannot be deployed: a secret it uses is missing");
        }
        var now = clock.GetUtcNow();
        var app = await db.Apps.Include(a => a.Functions)
            .SingleOrDefaultAsync(a => a.WorkspaceId == workspaceId && a.Name == name, cancellationToken);
        if (app is null)
        {
            app = new DeployedApp { Id = Guid.CreateVersion7(), WorkspaceId = workspaceId, Name = name, State = AppStates.Deployed, CreatedAt = now };
            db.Apps.Add(app);
        }
        app.State = request.Ephemeral ? AppStates.Ephemeral : AppStates.Deployed;
        app.BundleId = request.BundleId;
        app.UpdatedAt = now;

        var listed = manifests.Select(m => m.Signature.Name).ToHashSet(StringComparer.Ordinal);
        db.Functions.RemoveRange(app.Functions.Where(f => !listed.Contains(f.Name)));
        foreach (var (signature, json) in manifests)
        {
            var existing = app.Functions.SingleOrDefault(f => f.Name == signature.Name);
            if (existing is null)
            {
                // Added through the set, not only the loaded app's collection: with its key already set, EF would
                // otherwise take a new function of an existing app for a stored one and update a row that is not there.
                var added = new DeployedFunction
                {
                    Id = Guid.CreateVersion7(), AppId = app.Id, Name = signature.Name, ManifestJson = json, CreatedAt = now, UpdatedAt = now,
                };
                db.Functions.Add(added);
                if (!app.Functions.Contains(added))
                {
                    app.Functions.Add(added); // EF's fix-up adds it when the app is tracked; this covers the rest.
                }
            }
            else
            {
                existing.ManifestJson = json;
                existing.UpdatedAt = now;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        targets.Forget(workspaceId, name);

        var deployed = app.Functions.Where(f => listed.Contains(f.Name)).ToList();
        if (app.BundleId is not null)
        {
            // Runners start consuming the functions' queues; without a bundle there is nothing they could run.
            await events.Publish(AppDeployments.ToEvent(app, deployed, now), cancellationToken);
        }
        return TypedResults.Ok(ToResponse(app, deployed));
    }

    public static async Task<Results<Ok<DeployedAppInfo>, ProblemHttpResult>> GetAppAsync(
        string name, ClaimsPrincipal caller, ApiDbContext db, CancellationToken cancellationToken)
    {
        var workspaceId = caller.WorkspaceId();
        var app = await db.Apps.AsNoTracking().Include(a => a.Functions)
            .SingleOrDefaultAsync(a => a.WorkspaceId == workspaceId && a.Name == name, cancellationToken);
        return app is null ? CallTargets.AppNotFound(name) : TypedResults.Ok(ToResponse(app, app.Functions));
    }

    /// <summary>
    /// Stops an app: its functions cannot be called any more, its containers stop (running their exit hooks) and
    /// inputs still queued fail. A later deploy starts it again.
    /// </summary>
    public static async Task<Results<Ok<DeployedAppInfo>, ProblemHttpResult>> StopAppAsync(
        string name, ClaimsPrincipal caller, ApiDbContext db, CallTargets targets, IPublishEndpoint events, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var workspaceId = caller.WorkspaceId();
        var app = await db.Apps.Include(a => a.Functions)
            .SingleOrDefaultAsync(a => a.WorkspaceId == workspaceId && a.Name == name, cancellationToken);
        if (app is null)
        {
            return CallTargets.AppNotFound(name);
        }
        app.State = AppStates.Stopped;
        app.UpdatedAt = clock.GetUtcNow();
        // The app's containers lose their access with it (tokens are cached by the Api for at most 30 s).
        var containerTokens = IssueContainerTokenConsumer.TokenNamePrefix(app.Id);
        await db.ApiTokens.Where(t => t.WorkspaceId == workspaceId && t.Name.StartsWith(containerTokens) && t.RevokedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, app.UpdatedAt), cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        targets.Forget(workspaceId, name);
        await events.Publish(new AppStopped
        {
            WorkspaceId = workspaceId, AppId = app.Id, AppName = app.Name, FunctionIds = app.Functions.Select(f => f.Id).ToList(),
            StoppedAt = app.UpdatedAt,
        }, cancellationToken);
        return TypedResults.Ok(ToResponse(app, app.Functions));
    }

    /// <summary>
    /// What the app's functions printed, across calls, after position <c>after</c> (the <c>next</c> of the previous
    /// answer; none: from the oldest line kept). With <c>timeout</c> (seconds, at most 50) it waits that long for a
    /// first line, so a client can follow the log.
    /// </summary>
    public static async Task<Results<Ok<AppLogs>, ProblemHttpResult>> GetAppLogsAsync(
        string name, ClaimsPrincipal caller, ApiDbContext db, AppLogStore logs, TimeProvider clock, CancellationToken cancellationToken,
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
        var workspaceId = caller.WorkspaceId();
        var app = await db.Apps.AsNoTracking().SingleOrDefaultAsync(a => a.WorkspaceId == workspaceId && a.Name == name, cancellationToken);
        if (app is null)
        {
            return CallTargets.AppNotFound(name);
        }
        var deadline = clock.GetUtcNow().AddSeconds(timeout);
        while (true)
        {
            var lines = await logs.ReadAsync(app.Id, after, CallEndpoints.MaxLogLinesPerRequest);
            if (lines.Count > 0 || clock.GetUtcNow() >= deadline)
            {
                return TypedResults.Ok(new AppLogs(name, lines, lines.Count > 0 ? lines[^1].Id : after));
            }
            // Lines arrive in batches every quarter second at most (the runners' shipping interval).
            await Task.Delay(TimeSpan.FromMilliseconds(250), clock, cancellationToken);
        }
    }

    [GeneratedRegex(@"^\d+-\d+$")]
    private static partial Regex StreamPosition();

    public static async Task<Results<Ok<DeployedFunctionInfo>, ProblemHttpResult>> GetFunctionAsync(
        string app, string function, ClaimsPrincipal caller, ApiDbContext db, CallTargets targets, CancellationToken cancellationToken)
    {
        var (target, problem) = await targets.ResolveAsync(db, caller.WorkspaceId(), app, function, cancellationToken);
        return target is null
            ? problem!
            : TypedResults.Ok(new DeployedFunctionInfo(target.FunctionId, app, function, ToManifests(target.Signature.Parameters), target.Signature.ResultType));
    }

    private static DeployedAppInfo ToResponse(DeployedApp app, IEnumerable<DeployedFunction> functions) =>
        new(app.Id, app.Name, app.State, app.BundleId, app.UpdatedAt, functions.OrderBy(f => f.Name).Select(f => ToResponse(app.Name, f)).ToList());

    private static DeployedFunctionInfo ToResponse(string app, DeployedFunction function)
    {
        var signature = FunctionSignature.Parse(function.ManifestJson);
        return new DeployedFunctionInfo(function.Id, app, function.Name, ToManifests(signature.Parameters), signature.ResultType);
    }

    private static List<ParameterManifest> ToManifests(IEnumerable<ParameterSignature> parameters) =>
        parameters.Select(p => new ParameterManifest(p.Name, p.Type)).ToList();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();

    // A class's methods are functions named after it (Model.Generate), so function names may carry capitals.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex FunctionNamePattern();
}
