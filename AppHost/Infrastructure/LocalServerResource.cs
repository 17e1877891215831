namespace Modal.AppHost.Infrastructure;

/// <summary>
/// An infrastructure server (RabbitMQ, Redis, PostgreSQL, S3) run as a local process by one of
/// <c>scripts/infra/run-*.sh</c>. It has no connection string of its own: every platform service connects as its own
/// user, so each gets <see cref="ConnectionStringFor"/> its name.
/// </summary>
internal sealed class LocalServerResource(string name, string workingDirectory) : ExecutableResource(name, "bash", workingDirectory)
{
    /// <summary>The connection string a service reads (<c>ConnectionStrings:{ConnectionName}</c>), e.g. <c>rabbitmq</c>.</summary>
    public string ConnectionName { get; set; } = name;

    /// <summary>
    /// The connection string of one user of this server: a service's resource name (<c>api</c>, <c>gpu-runner</c>),
    /// or for PostgreSQL the database, whose role has its name. Set once the server is declared.
    /// </summary>
    public Func<string, ReferenceExpression> ConnectionStringFor { get; set; } =
        user => throw new InvalidOperationException($"{name} declares no users (for '{user}').");
}
