namespace Modal.AppHost.Infrastructure;

/// <summary>
/// An infrastructure server (RabbitMQ, Redis, PostgreSQL, S3) run as a local process by one of
/// <c>scripts/infra/run-*.sh</c>, which exposes a connection string like Aspire's container resources do.
/// </summary>
internal sealed class LocalServerResource(string name, string workingDirectory)
    : ExecutableResource(name, "bash", workingDirectory), IResourceWithConnectionString
{
    /// <summary>Set once the endpoints exist, since the expression refers to them.</summary>
    public ReferenceExpression ConnectionStringExpression { get; set; } = ReferenceExpression.Create($"");
}
