using MassTransit;
using Microsoft.EntityFrameworkCore;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;
using Modal.Contracts.Apps;

namespace Modal.Api.Apps;

/// <summary>
/// Tells a starting runner which apps are deployed, so it consumes their functions' queues, and a starting Scheduler,
/// so it scales their functions.
/// </summary>
public sealed class ListDeployedAppsConsumer(ApiDbContext db) : IConsumer<ListDeployedApps>, IConsumer<ListDeployedAppsToScale>
{
    public async Task Consume(ConsumeContext<ListDeployedApps> context) =>
        await context.RespondAsync(await DeployedAppsAsync(context.CancellationToken));

    public async Task Consume(ConsumeContext<ListDeployedAppsToScale> context) =>
        await context.RespondAsync(await DeployedAppsAsync(context.CancellationToken));

    private async Task<DeployedApps> DeployedAppsAsync(CancellationToken cancellationToken)
    {
        var apps = await db.Apps.AsNoTracking().Include(a => a.Functions)
            .Where(a => a.State != AppStates.Stopped && a.BundleId != null)
            .ToListAsync(cancellationToken);
        return new DeployedApps { Apps = apps.Select(app => AppDeployments.ToEvent(app, app.Functions, app.UpdatedAt)).ToList() };
    }
}
