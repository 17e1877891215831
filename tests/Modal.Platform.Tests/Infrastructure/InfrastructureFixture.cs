using System.Diagnostics;
using System.Globalization;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Starts the real RabbitMQ, Redis, PostgreSQL and S3 servers once per test run through the project's own
/// <c>scripts/infra.sh</c> (private data directory, ports of their own so a running platform is not touched),
/// and stops exactly those processes afterwards.
/// </summary>
public sealed class InfrastructureFixture : IAsyncLifetime
{
    // Ports distinct from the platform's defaults (scripts/infra.sh, AppHost) and from the end-to-end test's.
    // MODAL_TEST_PORT_OFFSET shifts them all, so two checkouts on one machine can run their suites at once.
    private static readonly int PortOffset =
        int.TryParse(Environment.GetEnvironmentVariable("MODAL_TEST_PORT_OFFSET"), CultureInfo.InvariantCulture, out var offset) ? offset : 0;

    private readonly Dictionary<string, int> _ports = new()
    {
        ["MODAL_RABBITMQ_PORT"] = 5782 + PortOffset,
        ["MODAL_RABBITMQ_MANAGEMENT_PORT"] = 15782 + PortOffset,
        ["MODAL_RABBITMQ_DIST_PORT"] = 25782 + PortOffset,
        ["MODAL_EPMD_PORT"] = 4479 + PortOffset,
        ["MODAL_REDIS_PORT"] = 6489 + PortOffset,
        ["MODAL_POSTGRES_PORT"] = 5542 + PortOffset,
        ["MODAL_S3_PORT"] = 8189 + PortOffset,
    };

    public const string S3AccessKey = "modal:admin";
    public const string S3SecretKey = "modal-secret-key";

    private readonly string _stateDirectory = Path.Combine(Path.GetTempPath(), $"modal-tests-{Guid.NewGuid():N}");

    public string RabbitMqConnectionString => $"amqp://guest:guest@127.0.0.1:{_ports["MODAL_RABBITMQ_PORT"]}/";
    public string RedisConnectionString => $"127.0.0.1:{_ports["MODAL_REDIS_PORT"]}";
    public string PostgresConnectionString => $"Host=127.0.0.1;Port={_ports["MODAL_POSTGRES_PORT"]};Username=platform";
    public string S3ConnectionString => $"Endpoint=http://127.0.0.1:{S3Port};AccessKey={S3AccessKey};SecretKey={S3SecretKey}";
    public int S3Port => _ports["MODAL_S3_PORT"];
    public int PostgresPort => _ports["MODAL_POSTGRES_PORT"];
    public int RedisPort => _ports["MODAL_REDIS_PORT"];
    public int RabbitMqPort => _ports["MODAL_RABBITMQ_PORT"];
    public int RabbitMqManagementPort => _ports["MODAL_RABBITMQ_MANAGEMENT_PORT"];

    /// <summary>Swift's account, container and object servers sit on the three ports after S3's, memcached on the fourth (scripts/infra/run-s3.sh).</summary>
    public int MemcachedPort => S3Port + 4;

    public async Task InitializeAsync()
    {
        try
        {
            await RunInfraScriptAsync("start");
        }
        catch
        {
            // xunit does not dispose a fixture whose start failed: stop whatever did start.
            await RunInfraScriptAsync("stop");
            throw;
        }

        // Every service under test reads its stores from these, exactly as under Aspire.
        Environment.SetEnvironmentVariable("ConnectionStrings__rabbitmq", RabbitMqConnectionString);
        Environment.SetEnvironmentVariable("ConnectionStrings__redis", RedisConnectionString);
        Environment.SetEnvironmentVariable("ConnectionStrings__s3", S3ConnectionString);
        Environment.SetEnvironmentVariable("ConnectionStrings__apidb", DatabaseConnectionString("modal_api"));
        Environment.SetEnvironmentVariable("ConnectionStrings__schedulerdb", DatabaseConnectionString("modal_scheduler"));
        Environment.SetEnvironmentVariable("ConnectionStrings__secretsdb", DatabaseConnectionString("modal_secrets"));
        // The first Api start of the run creates the install's first token and writes it here, as under the AppHost.
        Environment.SetEnvironmentVariable("Api__FirstTokenFile", FirstTokenFile);
        // Storage checks workspace credentials, the Api and runners issue them: one key for every service of the run.
        Environment.SetEnvironmentVariable("StorageCredentials__Key", TestSecretKeys.StorageCredentialKey);
    }

    public string FirstTokenFile => Path.Combine(_stateDirectory, "first-token.env");

    /// <summary>A client of <paramref name="api"/> (started now if it was not) signed in with the install's first token.</summary>
    public HttpClient AuthenticatedClient(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Modal.Api.ApiOptions> api)
    {
        var client = api.CreateClient();
        var (id, secret) = ReadFirstToken();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", $"{id}:{secret}");
        return client;
    }

    /// <summary>The first token of this run's install, once an Api has started.</summary>
    public (string Id, string Secret) ReadFirstToken() => ReadTokenFile(FirstTokenFile);

    /// <summary>Reads a token file as the Api writes it (<c>MODAL_TOKEN_ID=…</c> / <c>MODAL_TOKEN_SECRET=…</c>).</summary>
    public static (string Id, string Secret) ReadTokenFile(string path)
    {
        var values = File.ReadAllLines(path)
            .Select(line => line.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1]);
        return (values["MODAL_TOKEN_ID"], values["MODAL_TOKEN_SECRET"]);
    }

    public async Task DisposeAsync()
    {
        await RunInfraScriptAsync("stop");
        try
        {
            Directory.Delete(_stateDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A server may still be flushing a file; the folder is under /tmp and harmless.
        }
    }

    public string DatabaseConnectionString(string database) => $"{PostgresConnectionString};Database={database}";

    /// <summary>Stops one server (by the PID the script recorded), to test how services live through an outage.</summary>
    public Task StopServerAsync(string server) => RunInfraScriptAsync("stop", server);

    public Task StartServerAsync(string server) => RunInfraScriptAsync("start", server);

    private async Task RunInfraScriptAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepositoryPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine("scripts", "infra.sh"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["MODAL_INFRA_DIR"] = _stateDirectory;
        foreach (var (name, port) in _ports)
        {
            start.Environment[name] = port.ToString(CultureInfo.InvariantCulture);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start bash.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"scripts/infra.sh {string.Join(' ', arguments)} failed ({process.ExitCode}):\n{await output}\n{await error}");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class InfrastructureTestGroup : ICollectionFixture<InfrastructureFixture>
{
    public const string Name = "Real infrastructure";
}
