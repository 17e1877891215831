using System.Reflection;
using Microsoft.Extensions.Hosting;

namespace Modal.AppHost.Infrastructure;

/// <summary>How a platform service is declared: a project with a health-checked endpoint, wired to its stores.</summary>
internal static class PlatformServiceExtensions
{
    /// <summary>Names the environment the services run in; <see cref="Environments.Production"/> when unset.</summary>
    public const string EnvironmentSetting = "MODAL_ENVIRONMENT";

    public static IResourceBuilder<ProjectResource> AddPlatformService<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
    {
        // Production unless asked (MODAL_ENVIRONMENT=Development scripts/up.sh): in Development an unhandled exception
        // answers with its stack trace, source paths and the request's headers. Set over the launch profile's
        // Development (kept for `dotnet run` of one service) and over the AppHost's own environment, which the service
        // processes inherit.
        var environment = builder.Configuration[EnvironmentSetting] is { Length: > 0 } asked ? asked : Environments.Production;
        return builder.AddProject<TProject>(name, launchProfileName: "http")
            .RunBuiltExecutable(new TProject().ProjectPath)
            .WithEnvironment("ASPNETCORE_ENVIRONMENT", environment)
            .WithEnvironment("DOTNET_ENVIRONMENT", environment)
            // /health includes every store the service uses, so the dashboard shows a service unhealthy while a store is down.
            .WithHttpHealthCheck("/health");
    }

    /// <summary>
    /// Starts the service from its build output instead of through <c>dotnet run</c>, which keeps an idle SDK process
    /// (about 65 MB) beside every service. The AppHost builds its referenced projects, in its own configuration.
    /// </summary>
    private static IResourceBuilder<ProjectResource> RunBuiltExecutable(this IResourceBuilder<ProjectResource> service, string projectPath)
    {
        var projectDirectory = Path.GetDirectoryName(projectPath)!;
        var configuration = typeof(PlatformServiceExtensions).Assembly
            .GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var executable = Path.Combine(projectDirectory, "bin", configuration, "net10.0", Path.GetFileNameWithoutExtension(projectPath));
        if (!File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"'{executable}' does not exist: build the AppHost first (dotnet build AppHost -c {configuration}).");
        }
        return service.WithAnnotation(new ExecutableAnnotation { Command = executable, WorkingDirectory = projectDirectory });
    }

    /// <summary>
    /// Gives the service its own user on a store, as <c>ConnectionStrings__{name}</c> (<c>rabbitmq</c>, <c>redis</c>,
    /// <c>s3</c>), and starts the service only once the store is healthy. The user is the service's resource name.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithStore(
        this IResourceBuilder<ProjectResource> service, IResourceBuilder<LocalServerResource> store) =>
        service
            .WithEnvironment($"ConnectionStrings__{store.Resource.ConnectionName}", store.Resource.ConnectionStringFor(service.Resource.Name))
            .WaitFor(store);

    /// <summary>
    /// Gives the service its own database on the shared PostgreSQL server as <c>ConnectionStrings__{connectionName}</c>,
    /// as the role of that database (its owner, no superuser: <c>scripts/infra/run-postgres.sh</c> creates both). The
    /// service creates its tables itself (EF Core migrations).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDatabase(
        this IResourceBuilder<ProjectResource> service, IResourceBuilder<LocalServerResource> postgres,
        string connectionName, string databaseName) =>
        service
            .WithEnvironment($"ConnectionStrings__{connectionName}", postgres.Resource.ConnectionStringFor(databaseName))
            .WaitFor(postgres);

    /// <summary>
    /// Where the Api writes the first workspace token of a fresh install (owner-readable only); the path is printed
    /// once the Api is ready, the secret itself only by the Api, once.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithFirstTokenFile(this IResourceBuilder<ProjectResource> api, string path)
    {
        api.OnResourceReady((_, _, _) =>
        {
            Console.WriteLine($"Workspace token of this install: {path} (source it: set -a; . {path}; set +a)");
            return Task.CompletedTask;
        });
        return api.WithEnvironment("Api__FirstTokenFile", path);
    }

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
