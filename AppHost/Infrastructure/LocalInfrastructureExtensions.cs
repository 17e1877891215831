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
        var repositoryRoot = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
        var dataRoot = Path.GetFullPath(Path.Combine(repositoryRoot, settings.DataDirectory));
        var credentials = InfrastructureCredentials.LoadOrCreate(repositoryRoot, dataRoot);
        // The admin passwords stay with the runners and these health checks; no service gets them.
        const string admin = "modal-admin";

        var rabbitmq = builder.AddLocalServer("rabbitmq", repositoryRoot, dataRoot, settings.RabbitMqPort, credentials,
                "--management-port", Text(settings.RabbitMqManagementPort),
                "--dist-port", Text(settings.RabbitMqDistributionPort),
                "--epmd-port", Text(settings.EpmdPort))
            .WithEndpoint(name: "management", scheme: "http", port: settings.RabbitMqManagementPort,
                targetPort: settings.RabbitMqManagementPort, isProxied: false)
            .WithInfrastructureHealthCheck(builder, "rabbitmq-alarms",
                InfrastructureHealthChecks.RabbitMq(settings.RabbitMqManagementPort, admin, credentials.Value("MODAL_RABBITMQ_ADMIN_PASSWORD")));
        rabbitmq.Resource.ConnectionStringFor = service =>
            ReferenceExpression.Create($"amqp://{service}:{credentials.Parameter(builder, "rabbitmq", service).Resource}@127.0.0.1:{Text(settings.RabbitMqPort)}/");

        var redis = builder.AddLocalServer("redis", repositoryRoot, dataRoot, settings.RedisPort, credentials)
            .WithInfrastructureHealthCheck(builder, "redis-ping",
                InfrastructureHealthChecks.Redis(settings.RedisPort, admin, credentials.Value("MODAL_REDIS_ADMIN_PASSWORD")));
        redis.Resource.ConnectionStringFor = service =>
            ReferenceExpression.Create($"127.0.0.1:{Text(settings.RedisPort)},user={service},password={credentials.Parameter(builder, "redis", service).Resource}");

        var postgresServer = $"Host=127.0.0.1;Port={Text(settings.PostgresPort)}";
        var postgres = builder.AddLocalServer("postgres", repositoryRoot, dataRoot, settings.PostgresPort, credentials,
                "--user", settings.PostgresUser)
            .WithInfrastructureHealthCheck(builder, "postgres-select", InfrastructureHealthChecks.Postgres(
                $"{postgresServer};Username={settings.PostgresUser};Password={credentials.Value("MODAL_POSTGRES_ADMIN_PASSWORD")}"));
        // Each database has a role of its name (modal_api, ...) that owns it; see scripts/infra/run-postgres.sh.
        postgres.Resource.ConnectionStringFor = database =>
            ReferenceExpression.Create(
                $"{postgresServer};Username={database};Password={credentials.Parameter(builder, "postgres", database["modal_".Length..]).Resource};Database={database}");

        var s3 = builder.AddLocalServer("s3", repositoryRoot, dataRoot, settings.S3Port, credentials)
            .WithInfrastructureHealthCheck(builder, "s3-list-buckets",
                InfrastructureHealthChecks.S3(settings.S3Port, "probe:probe", credentials.Value("MODAL_S3_PROBE_SECRET")));
        // S3 access key ACCOUNT:USER: the platform's blobs live in the account "modal" (scripts/infra/run-s3.sh).
        s3.Resource.ConnectionStringFor = service =>
            ReferenceExpression.Create(
                $"Endpoint=http://127.0.0.1:{Text(settings.S3Port)};AccessKey=modal:{service};SecretKey={credentials.Parameter(builder, "s3", service, "SECRET").Resource}");

        return new LocalInfrastructure(dataRoot, rabbitmq, redis, postgres, s3);
    }

    /// <summary>
    /// Declares <c>scripts/infra/run-{name}.sh --port P --data-dir D --credentials F [extra...]</c>, a foreground runner that takes the
    /// server down with it when the AppHost stops it.
    /// </summary>
    private static IResourceBuilder<LocalServerResource> AddLocalServer(
        this IDistributedApplicationBuilder builder, string name, string repositoryRoot, string dataRoot, int port,
        InfrastructureCredentials credentials, params string[] extraArguments)
    {
        var resource = new LocalServerResource(name, repositoryRoot);
        // The runner reads its passwords from the file: a command line is readable by every local user (and the dashboard).
        return builder.AddResource(resource)
            .WithArgs([Path.Combine("scripts", "infra", $"run-{name}.sh"),
                "--port", Text(port), "--data-dir", Path.Combine(dataRoot, name), "--credentials", credentials.FilePath, .. extraArguments])
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
