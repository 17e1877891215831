namespace Modal.AppHost.Infrastructure;

/// <summary>
/// Where and how the AppHost runs its local infrastructure (section <c>Infrastructure</c> of appsettings.json).
/// Ports are fixed rather than allocated per run because RabbitMQ's and PostgreSQL's data must survive a restart
/// of the platform, and RabbitMQ keys its data by node name.
/// </summary>
internal sealed class InfrastructureSettings
{
    public const string SectionName = "Infrastructure";

    /// <summary>Data, logs and state of the servers; relative paths are relative to the repository root.</summary>
    public string DataDirectory { get; set; } = ".infra/apphost";

    public int RabbitMqPort { get; set; } = 5682;
    public int RabbitMqManagementPort { get; set; } = 15682;
    public int RabbitMqDistributionPort { get; set; } = 25682;
    public int EpmdPort { get; set; } = 4379;
    public int RedisPort { get; set; } = 6389;
    public int PostgresPort { get; set; } = 5442;
    public int S3Port { get; set; } = 8089;

    /// <summary>
    /// PostgreSQL's superuser (for the scripts only; each service has a role of its own). Passwords and keys are not
    /// settings: they are generated per install (<see cref="InfrastructureCredentials"/>).
    /// </summary>
    public string PostgresUser { get; set; } = "platform";
}
