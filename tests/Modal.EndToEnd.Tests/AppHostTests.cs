using System.Net;
using System.Net.Http.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using System.Reflection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Modal;
using Modal.Deployment;

namespace Modal.EndToEnd.Tests;

/// <summary>The whole platform as the README's first command starts it: AppHost, four servers, five services.</summary>
public sealed class AppHostTests
{
    private static readonly string[] InfrastructureResources = ["rabbitmq", "redis", "postgres", "s3"];
    private static readonly string[] ServiceResources = ["api", "scheduler", "gpu-runner", "storage", "secrets"];

    [Fact]
    public async Task Start_FreshMachine_EveryResourceHealthyAndADeployedFunctionRuns()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"modal-e2e-{Guid.NewGuid():N}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(6));
        var appHost = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Modal_AppHost>(
        [
            // Ports and data of its own, so neither a running platform nor the service tests' servers are touched.
            $"--Infrastructure:DataDirectory={dataDirectory}",
            "--Infrastructure:RabbitMqPort=5882", "--Infrastructure:RabbitMqManagementPort=15882",
            "--Infrastructure:RabbitMqDistributionPort=25882", "--Infrastructure:EpmdPort=4579",
            "--Infrastructure:RedisPort=6589", "--Infrastructure:PostgresPort=5642", "--Infrastructure:S3Port=8289",
            // No container runtime here: don't wait 30 s for one (notes/infrastructure.md).
            "--DcpPublisher:ContainerRuntimeInitializationTimeout=00:00:00",
        ],
        // The dashboard, as scripts/up.sh runs it (the testing builder leaves it out unless asked; its ports are its own).
        (options, _) => options.DisableDashboard = false, timeout.Token);

        try
        {
            await using var app = await appHost.BuildAsync(timeout.Token);
            await app.StartAsync(timeout.Token);

            foreach (var resource in InfrastructureResources.Concat(ServiceResources))
            {
                await app.ResourceNotifications.WaitForResourceHealthyAsync(resource, timeout.Token);
            }

            using var api = app.CreateHttpClient("api", "http");
            api.DefaultRequestHeaders.Authorization = new("Bearer", ReadFirstToken(Path.Combine(dataDirectory, "first-token.env")));
            using var response = await api.GetAsync(new Uri("/v1/workspaces", UriKind.Relative), timeout.Token);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var workspaces = await response.Content.ReadFromJsonAsync<List<WorkspaceName>>(timeout.Token);
            Assert.Contains(workspaces!, w => w.Name == "main");

            foreach (var resource in InfrastructureResources.Concat(ServiceResources))
            {
                Assert.True(app.ResourceNotifications.TryGetCurrentState(resource, out var state), $"no state for {resource}");
                Assert.Equal(HealthStatus.Healthy, state!.Snapshot.HealthStatus);
            }

            // Production unless MODAL_ENVIRONMENT asks otherwise: no exception pages with stack traces and headers.
            foreach (var service in ServiceResources)
            {
                Assert.True(app.ResourceNotifications.TryGetCurrentState(service, out var state), $"no state for {service}");
                Assert.Contains(state!.Snapshot.EnvironmentVariables, v => v is { Name: "ASPNETCORE_ENVIRONMENT", Value: "Production" });
                Assert.Contains(state.Snapshot.EnvironmentVariables, v => v is { Name: "DOTNET_ENVIRONMENT", Value: "Production" });
            }

            // The Scheduler's node list is for the install's runners and operators only (the runner key).
            using var scheduler = app.CreateHttpClient("scheduler", "http");
            using var runners = await scheduler.GetAsync(new Uri("/v1/runners", UriKind.Relative), timeout.Token);
            Assert.Equal(HttpStatusCode.Unauthorized, runners.StatusCode);

            // The dashboard is not anonymous (a function's container reaches loopback): the UI asks for its browser token,
            // its telemetry API for its key, and the services export telemetry with the OTLP key the AppHost gave them.
            // Its browser URL is the login link (the OTLP endpoint, gRPC only, is another of its URLs).
            var dashboardState = await app.ResourceNotifications.WaitForResourceAsync("aspire-dashboard",
                e => e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.Urls.Any(u => !u.IsInternal), timeout.Token);
            var browserUrl = dashboardState.Snapshot.Urls.FirstOrDefault(IsLoginUrl)
                ?? dashboardState.Snapshot.Urls.First(u => !u.IsInternal && u.Name?.Contains("otlp", StringComparison.OrdinalIgnoreCase) != true);
            var dashboardUrl = new Uri(browserUrl.Url).GetLeftPart(UriPartial.Authority);
            using var dashboard = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(dashboardUrl) };
            using var home = await GetWhenListeningAsync(dashboard, "/", timeout.Token);
            Assert.True(home.StatusCode == HttpStatusCode.Redirect,
                $"{home.StatusCode} from {dashboardUrl}; its URLs: {string.Join(", ", dashboardState.Snapshot.Urls.Select(u => $"{u.Name}={u.Url}"))}");
            Assert.Contains("/login", home.Headers.Location?.OriginalString, StringComparison.Ordinal);
            using var logs = await dashboard.GetAsync(new Uri("/api/telemetry/logs", UriKind.Relative), timeout.Token);
            Assert.Equal(HttpStatusCode.Unauthorized, logs.StatusCode);
            Assert.True(app.ResourceNotifications.TryGetCurrentState("api", out var apiState));
            Assert.Contains(apiState!.Snapshot.EnvironmentVariables,
                v => v.Name == "OTEL_EXPORTER_OTLP_HEADERS" && v.Value?.StartsWith("x-otlp-api-key=", StringComparison.Ordinal) == true);

            // The whole spine as a user meets it: deploy an app through the Api, then call it in a container.
            var modal = new ModalClient(api);
            var deployment = await AppDeployer.DeployAsync(modal, HelloWorldOutput(), "HelloWorld.dll", cancellationToken: timeout.Token);
            var f = Function.FromName(modal, deployment.App.Name, "f");
            Assert.Equal(49, await f.RemoteAsync<int>(new { i = 7 }, timeout.Token));

            await app.StopAsync(timeout.Token);
        }
        finally
        {
            try
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
            catch (IOException)
            {
                // A server may still be releasing a file; the folder is under /tmp.
            }
        }
    }

    private static bool IsLoginUrl(UrlSnapshot url) => url.Url.Contains("/login?t=", StringComparison.Ordinal);

    /// <summary>GETs <paramref name="path"/> once the dashboard listens (it reports Running a moment before).</summary>
    private static async Task<HttpResponseMessage> GetWhenListeningAsync(HttpClient client, string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await client.GetAsync(new Uri(path, UriKind.Relative), cancellationToken);
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            }
        }
    }

    private sealed record WorkspaceName(string Name);

    private static string HelloWorldOutput()
    {
        var configuration = typeof(AppHostTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Modal.Platform.sln")))
            {
                return Path.Combine(folder.FullName, "examples", "HelloWorld", "bin", configuration, "net10.0");
            }
        }
        throw new InvalidOperationException("No Modal.Platform.sln above the test binaries.");
    }

    /// <summary>The token the Api wrote on its first start, as <c>id:secret</c>.</summary>
    private static string ReadFirstToken(string path)
    {
        var values = File.ReadAllLines(path).Select(line => line.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        return $"{values["MODAL_TOKEN_ID"]}:{values["MODAL_TOKEN_SECRET"]}";
    }
}
