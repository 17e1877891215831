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

    public static Task MigrateSecretsDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default) =>
        app.Services.MigrateDatabaseAsync<SecretsDbContext>(cancellationToken: cancellationToken);
}
