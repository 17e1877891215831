using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Modal.Api.Authentication;
using Modal.Api.Calls;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;
using Modal.Contracts.Apps;

namespace Modal.Api.Apps;

/// <summary>
/// Registers apps and stops them. A deploy updates the workspace's running deployed app of that name (its id, and its
/// functions' ids and so their queues, stay), or makes a new one; a run always makes a new ephemeral app. Each
/// registration is a version in the app's history; runners hear of it by <see cref="AppDeployed"/>.
/// </summary>
public sealed class AppRegistry(
    ApiDbContext db, CallTargets targets, Web.WebEndpointDirectory webEndpoints, IPublishEndpoint events, TimeProvider clock, IMemoryCache cache)
{
    /// <summary>Registers <paramref name="functions"/> (already checked) as the app's current version.</summary>
    /// <exception cref="DbUpdateException">A concurrent first deploy of the same name won.</exception>
    public async Task<DeployedApp> RegisterAsync(
        Guid workspaceId, string name, bool ephemeral, IReadOnlyList<(FunctionSignature Signature, string Json)> functions, string? bundleId,
        CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var app = ephemeral ? null : await db.Apps.Include(a => a.Functions)
            .SingleOrDefaultAsync(a => a.WorkspaceId == workspaceId && a.Name == name && a.State == AppStates.Deployed, cancellationToken);
        if (app is null)
        {
            app = new DeployedApp
            {
                Id = Guid.CreateVersion7(), WorkspaceId = workspaceId, Name = name, Ephemeral = ephemeral,
                State = ephemeral ? AppStates.Ephemeral : AppStates.Deployed, CreatedAt = now,
            };
            db.Apps.Add(app);
        }
        app.BundleId = bundleId;
        app.UpdatedAt = now;
        app.Version++;

        var listed = functions.Select(m => m.Signature.Name).ToHashSet(StringComparer.Ordinal);
        db.Functions.RemoveRange(app.Functions.Where(f => !listed.Contains(f.Name)));
        foreach (var (signature, json) in functions)
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
        db.AppDeployments.Add(new AppDeployment
        {
            Id = Guid.CreateVersion7(), AppId = app.Id, Version = app.Version, BundleId = bundleId, DeployedAt = now,
            FunctionsJson = "[" + string.Join(",", functions.Select(f => f.Json)) + "]",
        });
        await db.SaveChangesAsync(cancellationToken);
        app.Functions.RemoveAll(f => !listed.Contains(f.Name)); // EF's fix-up may leave removed ones in the loaded list.
        targets.Forget(app);
        // At once on this replica (an app without a bundle publishes no AppDeployed); other replicas drop it on the event.
        webEndpoints.Forget(app.WorkspaceId);

        if (app.BundleId is not null)
        {
            // Runners start consuming the functions' queues; without a bundle there is nothing they could run.
            await events.Publish(AppDeployments.ToEvent(app, app.Functions, now), cancellationToken);
        }
        return app;
    }

    /// <summary>
    /// Stops a running app for good: its functions cannot be called any more, its containers stop (running their exit
    /// hooks), inputs still queued fail, and its containers' tokens are revoked.
    /// </summary>
    public async Task StopAsync(DeployedApp app, CancellationToken cancellationToken)
    {
        app.State = AppStates.Stopped;
        app.UpdatedAt = clock.GetUtcNow();
        app.StoppedAt = app.UpdatedAt;
        // The state first: a container token issued meanwhile sees it once stored (IssueContainerTokenConsumer).
        await db.SaveChangesAsync(cancellationToken);
        // The app's containers lose their access with it: at once here, within the auth cache's 30 s on other replicas.
        var revoked = await db.ApiTokens.Where(t => t.WorkspaceId == app.WorkspaceId && t.AppId == app.Id && t.RevokedAt == null)
            .Select(t => t.Id).ToListAsync(cancellationToken);
        await db.ApiTokens.Where(t => t.WorkspaceId == app.WorkspaceId && t.AppId == app.Id && t.RevokedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, app.UpdatedAt), cancellationToken);
        foreach (var tokenId in revoked)
        {
            TokenAuthenticationHandler.Forget(cache, tokenId);
        }
        targets.Forget(app);
        webEndpoints.Forget(app.WorkspaceId);
        await events.Publish(new AppStopped
        {
            WorkspaceId = app.WorkspaceId, AppId = app.Id, AppName = app.Name, FunctionIds = app.Functions.Select(f => f.Id).ToList(),
            StoppedAt = app.UpdatedAt,
        }, cancellationToken);
    }

    /// <summary>The function names of each stored version of the app, newest first.</summary>
    public async Task<IReadOnlyList<(AppDeployment Deployment, IReadOnlyList<string> Functions)>> HistoryAsync(
        Guid appId, CancellationToken cancellationToken)
    {
        var deployments = await db.AppDeployments.AsNoTracking().Where(d => d.AppId == appId)
            .OrderByDescending(d => d.Version).ToListAsync(cancellationToken);
        return deployments.Select(d => (d, (IReadOnlyList<string>)(JsonSerializer.Deserialize<List<FunctionSignature>>(d.FunctionsJson, FunctionSignature.Json) ?? [])
            .Select(f => f.Name).ToList())).ToList();
    }
}
