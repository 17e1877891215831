using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Primitives;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;

namespace Modal.Api.Calls;

/// <summary>A callable function: its queue's id, the bundle it runs and its parsed signature.</summary>
public sealed record CallTarget(Guid FunctionId, string? BundleId, FunctionSignature Signature);

/// <summary>
/// Resolves <c>app.function</c> of a workspace for the call path. Found functions are cached for
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
        var key = (workspaceId, app, function);
        if (cache.TryGetValue(key, out CallTarget? cached) && cached is not null)
        {
            return (cached, null);
        }

        // Taken before the query: a deploy that lands while it runs expires what it reads at once.
        var version = AppVersion(workspaceId, app).Token;
        var found = await db.Functions.AsNoTracking()
            .Join(db.Apps, f => f.AppId, a => a.Id, (f, a) => new { Function = f, App = a })
            .Where(x => x.App.WorkspaceId == workspaceId && x.App.Name == app && x.App.State != AppStates.Stopped && x.Function.Name == function)
            .Select(x => new { x.Function.Id, x.App.BundleId, x.Function.ManifestJson })
            .SingleOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            // Only the error path asks which of the two is missing.
            var appExists = await db.Apps.AnyAsync(a => a.WorkspaceId == workspaceId && a.Name == app && a.State != AppStates.Stopped, cancellationToken);
            return (null, appExists
                ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Function not found",
                    detail: $"App '{app}' has no function named '{function}'. See GET /v1/apps/{app}.")
                : AppNotFound(app));
        }

        var target = new CallTarget(found.Id, found.BundleId, FunctionSignature.Parse(found.ManifestJson));
        using (var entry = cache.CreateEntry(key))
        {
            entry.Value = target;
            entry.AbsoluteExpirationRelativeToNow = CacheLifetime;
            entry.AddExpirationToken(new CancellationChangeToken(version));
        }
        return (target, null);
    }

    /// <summary>Drops every cached function of the app (after a deploy or a stop).</summary>
    public void Forget(Guid workspaceId, string app)
    {
        if (_appVersions.TryRemove((workspaceId, app), out var version))
        {
            // Cancelled, not disposed: a concurrent resolve may still be reading its token.
            version.Cancel();
        }
    }

    public static ProblemHttpResult AppNotFound(string name) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "App not found",
            detail: $"No app named '{name}' is deployed in this workspace. Deploy it with `modal deploy` (PUT /v1/apps/{name}).");

    private CancellationTokenSource AppVersion(Guid workspaceId, string app) =>
        _appVersions.GetOrAdd((workspaceId, app), _ => new CancellationTokenSource());
}
