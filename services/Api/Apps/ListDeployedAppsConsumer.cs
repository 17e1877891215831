using MassTransit;
using Microsoft.EntityFrameworkCore;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;
using Modal.Contracts.Apps;

namespace Modal.Api.Apps;

/// <summary>Tells a starting runner which apps are deployed, so it consumes their functions' queues.</summary>
public sealed class ListDeployedAppsConsumer(ApiDbContext db) : IConsumer<ListDeployedApps>
{
    public async Task Consume(ConsumeContext<ListDeployedApps> context)
    {
        var apps = await db.Apps.AsNoTracking().Include(a => a.Functions)
            .Where(a => a.State != AppStates.Stopped && a.BundleId != null)
            .ToListAsync(context.CancellationToken);
        await context.RespondAsync(new DeployedApps
        {
            Apps = apps.Select(app => AppDeployments.ToEvent(app, app.Functions, app.UpdatedAt)).ToList(),
        });
    }
}
