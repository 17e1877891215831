using System.Collections.Concurrent;
using Modal.Api.Contracts.Apps;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;
using Modal.Api.Apps;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;

namespace Modal.Api.Calls;

/// <summary>A callable function: its app, its queue's id, the bundle it runs and its parsed signature.</summary>
public sealed record CallTarget(Guid AppId, string AppName, Guid FunctionId, string? BundleId, FunctionSignature Signature);

/// <summary>
/// Resolves <c>app.function</c> of a workspace for the call path, the app named by id or by name
/// (<see cref="AppReferences"/>); only a running app's functions can be called. Found functions are cached for
/// <see cref="CacheLifetime"/> so a call does not wait on PostgreSQL (nor re-parse the manifest) every time; a deploy
/// or stop on this replica forgets the app at once, other replicas see it within that time.
/// </summary>
public sealed class CallTargets(IMemoryCache cache)
{
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(Guid Workspace, string App), CancellationTokenSource> _appVersions = new();

    public async Task<(CallTarget? Target, ProblemHttpResult? Problem)> ResolveAsync(
        ApiDbContext db, Guid workspaceId, string app, string function, CancellationToken cancellationToken)
    {
        if (AppIds.TryParse(app, out var appId))
        {
            app = AppIds.Format(appId); // One spelling per id, so a deploy or stop forgets what was cached under it.
        }
        var key = (workspaceId, app, function);
        if (cache.TryGetValue(key, out CallTarget? cached) && cached is not null)
        {
            return (cached, null);
        }

        // Taken before the query: a deploy that lands while it runs expires what it reads at once.
        var version = AppVersion(workspaceId, app).Token;
        var running = db.Apps.AsNoTracking().Referenced(workspaceId, app).Where(a => a.State != AppStates.Stopped);
        var found = await db.Functions.AsNoTracking()
            .Join(running, f => f.AppId, a => a.Id, (f, a) => new { Function = f, App = a })
            .Where(x => x.Function.Name == function)
            .Select(x => new { AppId = x.App.Id, AppName = x.App.Name, x.Function.Id, x.App.BundleId, x.Function.ManifestJson })
            .SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            // Only the error path asks which of the two is missing.
            var appExists = await running.AnyAsync(cancellationToken);
            return (null, appExists
                ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Function not found",
                    detail: $"App '{app}' has no function named '{function}'. See GET /v1/apps/{app}.")
                : AppNotFound(app));
        }

        var target = new CallTarget(found.AppId, found.AppName, found.Id, found.BundleId, FunctionSignature.Parse(found.ManifestJson));
        using (var entry = cache.CreateEntry(key))
        {
            entry.Value = target;
            entry.AbsoluteExpirationRelativeToNow = CacheLifetime;
            entry.AddExpirationToken(new CancellationChangeToken(version));
        }
        return (target, null);
    }

    /// <summary>Drops every cached function of the app, whether it was named by id or by name (after a deploy or a stop).</summary>
    public void Forget(DeployedApp app)
    {
        foreach (var reference in new[] { app.Name, AppIds.Format(app.Id) })
        {
            if (_appVersions.TryRemove((app.WorkspaceId, reference), out var version))
            {
                // Cancelled, not disposed: a concurrent resolve may still be reading its token.
                version.Cancel();
            }
        }
    }

    public static ProblemHttpResult AppNotFound(string reference) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "App not found",
            detail: AppIds.TryParse(reference, out _)
                ? $"No running app has the id '{reference}' in this workspace (it may have stopped). See GET /v1/apps."
                : $"No app named '{reference}' is deployed in this workspace. Deploy it with `modal deploy` (PUT /v1/apps/{reference}).");

    private CancellationTokenSource AppVersion(Guid workspaceId, string app) =>
        _appVersions.GetOrAdd((workspaceId, app), _ => new CancellationTokenSource());
}
