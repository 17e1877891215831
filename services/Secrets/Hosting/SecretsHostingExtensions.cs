using Microsoft.Extensions.Options;
using Modal.Secrets.Infrastructure;

namespace Modal.Secrets.Hosting;

public static partial class SecretsHostingExtensions
{
    public static WebApplicationBuilder AddSecretsServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecretsOptions>()
            .BindConfiguration(SecretsOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SecretsOptions>, SecretsOptionsValidator>();

        // EF Core's sensitive data logging stays off (its default): parameter values would include ciphertexts and names.
        builder.AddNpgsqlDbContext<SecretsDbContext>(SecretsDbContext.ConnectionName);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSecretCredentials();
        builder.Services.AddSingleton<KeyRing>();
        builder.Services.AddScoped<SecretVault>();
        builder.Services.AddOpenApi();
        return builder;
    }

    /// <summary>Applies pending migrations, then re-seals secrets still sealed with a key other than the active one (key rotation).</summary>
    public static async Task MigrateSecretsDatabaseAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        await app.Services.MigrateDatabaseAsync<SecretsDbContext>(cancellationToken: cancellationToken);
        await using var scope = app.Services.CreateAsyncScope();
        var resealed = await scope.ServiceProvider.GetRequiredService<SecretVault>().ResealWithActiveKeyAsync(batchSize: 100, cancellationToken);
        if (resealed > 0)
        {
            var activeKeyId = app.Services.GetRequiredService<KeyRing>().ActiveKeyId;
            LogResealed(app.Logger, resealed, activeKeyId);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-sealed {Count} secrets with the active key {KeyId}")]
    private static partial void LogResealed(ILogger logger, int count, string keyId);
}
