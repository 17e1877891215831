using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>Startup migration shared by the services that own a PostgreSQL database.</summary>
public static class DatabaseMigrationExtensions
{
    /// <summary>
    /// Creates the database if needed, applies pending migrations, then runs <paramref name="seed"/>, all inside the
    /// context's execution strategy: after a PostgreSQL restart the first pooled connections fail with 57P01, a
    /// transient error that the strategy retries instead of failing the service's start.
    /// </summary>
    public static async Task MigrateDatabaseAsync<TContext>(
        this IServiceProvider services, Func<TContext, CancellationToken, Task>? seed = null, CancellationToken cancellationToken = default)
        where TContext : DbContext
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async token =>
        {
            await db.Database.MigrateAsync(token);
            if (seed is not null)
            {
                await seed(db, token);
            }
        }, cancellationToken);
    }
}
