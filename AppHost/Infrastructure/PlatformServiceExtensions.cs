namespace Modal.AppHost.Infrastructure;

/// <summary>How a platform service is declared: a project with a health-checked endpoint, wired to its stores.</summary>
internal static class PlatformServiceExtensions
{
    public static IResourceBuilder<ProjectResource> AddPlatformService<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>(name, launchProfileName: "http")
            // /health includes every store the service uses, so the dashboard shows a service unhealthy while a store is down.
            .WithHttpHealthCheck("/health");

    /// <summary>References a store (connection string) and starts the service only once the store is healthy.</summary>
    public static IResourceBuilder<ProjectResource> WithStore(
        this IResourceBuilder<ProjectResource> service, IResourceBuilder<LocalServerResource> store) =>
        service.WithReference(store).WaitFor(store);

    /// <summary>
    /// Gives the service its own database on the shared PostgreSQL server as <c>ConnectionStrings__{connectionName}</c>.
    /// The service creates the database itself (EF Core migrations), so nothing is declared on the server.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDatabase(
        this IResourceBuilder<ProjectResource> service, IResourceBuilder<LocalServerResource> postgres,
        string connectionName, string databaseName) =>
        service
            .WithEnvironment($"ConnectionStrings__{connectionName}",
                ReferenceExpression.Create($"{postgres.Resource.ConnectionStringExpression};Database={databaseName}"))
            .WaitFor(postgres);

    /// <summary>Prints the service's URL on the console once it is healthy, beside the dashboard's.</summary>
    public static IResourceBuilder<ProjectResource> WithAnnouncedUrl(this IResourceBuilder<ProjectResource> service, string title)
    {
        service.OnResourceReady((resource, _, _) =>
        {
            Console.WriteLine($"{title} is ready at {resource.GetEndpoint("http").Url}");
            return Task.CompletedTask;
        });
        return service;
    }
}
