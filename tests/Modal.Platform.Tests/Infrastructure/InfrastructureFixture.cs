using System.Diagnostics;
using System.Globalization;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Starts the real RabbitMQ, Redis, PostgreSQL and S3 servers once per test run through the project's own
/// <c>scripts/infra.sh</c> (private data directory, ports of their own so a running platform is not touched),
/// and stops exactly those processes afterwards. The servers authenticate as an install's do, with credentials
/// generated for this run's state directory; each service the tests start connects as its own user
/// (<see cref="ConnectionStringsFor"/>, applied by <see cref="ServiceFactory{TEntryPoint}"/> and <see cref="ServiceProcess"/>).
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

    /// <summary>The services whose users the servers know (scripts/infra/credentials.sh), by their AppHost resource names.</summary>
    public static readonly string[] Services = ["api", "scheduler", "secrets", "storage", "gpu-runner"];

    private readonly string _stateDirectory = Path.Combine(Path.GetTempPath(), $"modal-tests-{Guid.NewGuid():N}");
    private Dictionary<string, string> _credentials = [];

    /// <summary>The run's fixture once started: what <see cref="ServiceFactory{TEntryPoint}"/> takes each service's users from.</summary>
    public static InfrastructureFixture? Current { get; private set; }

    /// <summary>As the runner: the tests' stand-in runners and event recorders are on the bus in its place.</summary>
    public string RabbitMqConnectionString => RabbitMqConnectionStringOf("gpu-runner");
    public int RabbitMqPort => _ports["MODAL_RABBITMQ_PORT"];
    public int RabbitMqManagementPort => _ports["MODAL_RABBITMQ_MANAGEMENT_PORT"];
    public int RedisPort => _ports["MODAL_REDIS_PORT"];
    public int PostgresPort => _ports["MODAL_POSTGRES_PORT"];
    public int S3Port => _ports["MODAL_S3_PORT"];
    /// <summary>memcached, Swift's cache, listens on the port after the S3 servers' (scripts/infra/run-s3.sh).</summary>
    public int MemcachedPort => S3Port + 4;
    public string StateDirectory => _stateDirectory;

    /// <summary>PostgreSQL's superuser, which no service gets: for tests that inspect the server as a whole.</summary>
    public string AdminPostgresConnectionString =>
        $"Host=127.0.0.1;Port={PostgresPort};Username=platform;Password={Credential("MODAL_POSTGRES_ADMIN_PASSWORD")}";

    /// <summary>Storage's S3 key (the account that holds the platform's buckets).</summary>
    public (string AccessKey, string SecretKey) S3StorageKey => ("modal:storage", Credential("MODAL_S3_STORAGE_SECRET"));

    /// <summary>A generated credential of this run (<c>MODAL_…</c>, see scripts/infra/credentials.sh).</summary>
    public string Credential(string name) =>
        _credentials.TryGetValue(name, out var value) ? value : throw new InvalidOperationException($"No credential {name} in this run's state directory.");

    public string RabbitMqConnectionStringOf(string service) =>
        $"amqp://{service}:{Credential($"MODAL_RABBITMQ_{Variable(service)}_PASSWORD")}@127.0.0.1:{RabbitMqPort}/";

    public string RedisConnectionStringOf(string service) =>
        $"127.0.0.1:{RedisPort},user={service},password={Credential($"MODAL_REDIS_{Variable(service)}_PASSWORD")}";

    /// <summary><paramref name="database"/> as the role <paramref name="role"/> (each service database's owner has its name).</summary>
    public string DatabaseConnectionString(string database, string role) =>
        $"Host=127.0.0.1;Port={PostgresPort};Username={role};Password={Credential($"MODAL_POSTGRES_{Variable(role["modal_".Length..])}_PASSWORD")};Database={database}";

    /// <summary>What <paramref name="service"/> reads, as the AppHost gives it: its own users on the servers it uses.</summary>
    public (string Key, string Value)[] ConnectionStringsFor(string service) => service switch
    {
        "api" =>
        [
            ("ConnectionStrings:apidb", DatabaseConnectionString("modal_api", "modal_api")),
            ("ConnectionStrings:redis", RedisConnectionStringOf("api")),
            ("ConnectionStrings:rabbitmq", RabbitMqConnectionStringOf("api")),
        ],
        "scheduler" =>
        [
            ("ConnectionStrings:schedulerdb", DatabaseConnectionString("modal_scheduler", "modal_scheduler")),
            ("ConnectionStrings:rabbitmq", RabbitMqConnectionStringOf("scheduler")),
        ],
        "secrets" => [("ConnectionStrings:secretsdb", DatabaseConnectionString("modal_secrets", "modal_secrets"))],
        "storage" =>
        [
            ("ConnectionStrings:redis", RedisConnectionStringOf("storage")),
            ("ConnectionStrings:s3", $"Endpoint=http://127.0.0.1:{S3Port};AccessKey={S3StorageKey.AccessKey};SecretKey={S3StorageKey.SecretKey}"),
        ],
        // The install's runner key, as the AppHost gives it: ingresses present it to a runner's web forwarder.
        "gpu-runner" => [("ConnectionStrings:rabbitmq", RabbitMqConnectionStringOf("gpu-runner")), ("GpuRunner:RunnerKey", TestSecretKeys.RunnerKey)],
        _ => throw new ArgumentException($"No service '{service}' ({string.Join(", ", Services)}).", nameof(service)),
    };

    /// <summary>
    /// Creates <paramref name="database"/> owned by <paramref name="ownerRole"/>, as scripts/infra/run-postgres.sh does for
    /// a service's own: service roles cannot create databases.
    /// </summary>
    public async Task CreateDatabaseAsync(string database, string ownerRole)
    {
        await using var connection = new Npgsql.NpgsqlConnection($"{AdminPostgresConnectionString};Database=postgres");
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{database}\" OWNER \"{ownerRole}\"", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A service folder's name as the AppHost names its resource: GpuRunner → gpu-runner.</summary>
    public static string ResourceName(string service) =>
        string.Concat(service.Select((c, i) => char.IsUpper(c) && i > 0 ? $"-{char.ToLowerInvariant(c)}" : char.ToLowerInvariant(c).ToString()));

    private static string Variable(string user) => user.Replace('-', '_').ToUpperInvariant();

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

        _credentials = File.ReadAllLines(Path.Combine(_stateDirectory, "infra-credentials.env"))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
        Current = this;
        // Each service under test gets its own users from ServiceFactory/ServiceProcess. Only the broker is named here
        // for the whole process: the tests' own stand-in runners and event recorders connect as the runner.
        Environment.SetEnvironmentVariable("ConnectionStrings__rabbitmq", RabbitMqConnectionString);
        // The first Api start of the run creates the install's first token and writes it here, as under the AppHost.
        Environment.SetEnvironmentVariable("Api__FirstTokenFile", FirstTokenFile);
        // Storage checks workspace credentials, the Api and runners issue them: one key for every service of the run.
        Environment.SetEnvironmentVariable("StorageCredentials__Key", TestSecretKeys.StorageCredentialKey);
        // The Api signs what it forwards to the Secrets service, which takes nothing else: their own key, as under the AppHost.
        Environment.SetEnvironmentVariable("SecretCredentials__Key", TestSecretKeys.SecretCredentialKey);
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
