using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;

namespace Modal.Api.Hosting;

public static class ApiHostingExtensions
{
    /// <summary>Name of the connection string that points at Redis (hot call state).</summary>
    public const string RedisConnectionName = "redis";

    public static WebApplicationBuilder AddApiServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApiOptions>()
            .BindConfiguration(ApiOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Aspire's client integrations fail fast naming ConnectionStrings:<name> when it is missing,
        // and add a health check, retries and tracing for each store.
        builder.AddNpgsqlDbContext<ApiDbContext>(ApiDbContext.ConnectionName);
        builder.AddRedisClient(RedisConnectionName);
        builder.AddModalMessageBus();

        builder.Services.AddOpenApi();
        return builder;
    }

    /// <summary>Applies pending migrations and makes sure the default workspace exists.</summary>
    public static Task MigrateApiDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        var defaultWorkspace = app.Services.GetRequiredService<IOptions<ApiOptions>>().Value.DefaultWorkspace;
        // Two Api replicas may start at once: insert-if-absent in one statement instead of check-then-insert.
        return app.Services.MigrateDatabaseAsync<ApiDbContext>(
            (db, token) => db.Database.ExecuteSqlAsync(
                $"INSERT INTO workspaces (id, name, created_at) VALUES ({Guid.CreateVersion7()}, {defaultWorkspace}, {DateTimeOffset.UtcNow}) ON CONFLICT (name) DO NOTHING",
                token),
            cancellationToken);
    }
}
