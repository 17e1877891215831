using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Modal.AppHost.Infrastructure;

/// <summary>The four backing servers, each a health-checked local process.</summary>
internal sealed record LocalInfrastructure(
    string DataDirectory,
    IResourceBuilder<LocalServerResource> RabbitMq,
    IResourceBuilder<LocalServerResource> Redis,
    IResourceBuilder<LocalServerResource> Postgres,
    IResourceBuilder<LocalServerResource> S3);

internal static class LocalInfrastructureExtensions
{
    public static LocalInfrastructure AddLocalInfrastructure(this IDistributedApplicationBuilder builder)
    {
        var settings = builder.Configuration.GetSection(InfrastructureSettings.SectionName).Get<InfrastructureSettings>()
            ?? new InfrastructureSettings();
        settings.Validate();
        var repositoryRoot = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
        var dataRoot = Path.GetFullPath(Path.Combine(repositoryRoot, settings.DataDirectory));

        var rabbitmq = builder.AddLocalServer("rabbitmq", repositoryRoot, dataRoot, settings.RabbitMqPort,
                $"amqp://{settings.RabbitMqUser}:{settings.RabbitMqPassword}@127.0.0.1:{settings.RabbitMqPort}/",
                "--management-port", Text(settings.RabbitMqManagementPort),
                "--dist-port", Text(settings.RabbitMqDistributionPort),
                "--epmd-port", Text(settings.EpmdPort))
            .WithEndpoint(name: "management", scheme: "http", port: settings.RabbitMqManagementPort,
                targetPort: settings.RabbitMqManagementPort, isProxied: false)
            .WithInfrastructureHealthCheck(builder, "rabbitmq-alarms",
                InfrastructureHealthChecks.RabbitMq(settings.RabbitMqManagementPort, settings.RabbitMqUser, settings.RabbitMqPassword));

        var redis = builder.AddLocalServer("redis", repositoryRoot, dataRoot, settings.RedisPort,
                $"127.0.0.1:{settings.RedisPort}")
            .WithInfrastructureHealthCheck(builder, "redis-ping", InfrastructureHealthChecks.Redis(settings.RedisPort));

        var postgresConnection = $"Host=127.0.0.1;Port={settings.PostgresPort};Username={settings.PostgresUser}";
        var postgres = builder.AddLocalServer("postgres", repositoryRoot, dataRoot, settings.PostgresPort, postgresConnection)
            .WithInfrastructureHealthCheck(builder, "postgres-select", InfrastructureHealthChecks.Postgres(postgresConnection));

        var s3 = builder.AddLocalServer("s3", repositoryRoot, dataRoot, settings.S3Port,
                $"Endpoint=http://127.0.0.1:{settings.S3Port};AccessKey={settings.S3AccessKey};SecretKey={settings.S3SecretKey}",
                "--access-key", settings.S3AccessKey, "--secret-key", settings.S3SecretKey)
            .WithInfrastructureHealthCheck(builder, "s3-list-buckets",
                InfrastructureHealthChecks.S3(settings.S3Port, settings.S3AccessKey, settings.S3SecretKey));

        return new LocalInfrastructure(dataRoot, rabbitmq, redis, postgres, s3);
    }

    /// <summary>
    /// Declares <c>scripts/infra/run-{name}.sh --port P --data-dir D [extra...]</c>, a foreground runner that takes the
    /// server down with it when the AppHost stops it.
    /// </summary>
    private static IResourceBuilder<LocalServerResource> AddLocalServer(
        this IDistributedApplicationBuilder builder, string name, string repositoryRoot, string dataRoot, int port,
        string connectionString, params string[] extraArguments)
    {
        var resource = new LocalServerResource(name, repositoryRoot)
        {
            ConnectionStringExpression = ReferenceExpression.Create($"{connectionString}"),
        };
        return builder.AddResource(resource)
            .WithArgs([Path.Combine("scripts", "infra", $"run-{name}.sh"),
                "--port", Text(port), "--data-dir", Path.Combine(dataRoot, name), .. extraArguments])
            .WithEndpoint(name: "tcp", scheme: "tcp", port: port, targetPort: port, isProxied: false);
    }

    private static IResourceBuilder<LocalServerResource> WithInfrastructureHealthCheck(
        this IResourceBuilder<LocalServerResource> server, IDistributedApplicationBuilder builder, string checkName,
        Func<CancellationToken, Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult>> check)
    {
        builder.Services.AddHealthChecks().AddAsyncCheck(checkName, check);
        return server.WithHealthCheck(checkName);
    }

    private static string Text(int number) => number.ToString(CultureInfo.InvariantCulture);
}
