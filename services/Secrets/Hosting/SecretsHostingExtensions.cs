using Microsoft.EntityFrameworkCore;
using Modal.Secrets.Infrastructure;

namespace Modal.Secrets.Hosting;

public static class SecretsHostingExtensions
{
    public static WebApplicationBuilder AddSecretsServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecretsOptions>()
            .BindConfiguration(SecretsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.AddNpgsqlDbContext<SecretsDbContext>(SecretsDbContext.ConnectionName);
        builder.Services.AddOpenApi();
        return builder;
    }

    public static async Task MigrateSecretsDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<SecretsDbContext>().Database.MigrateAsync(cancellationToken);
    }
}
