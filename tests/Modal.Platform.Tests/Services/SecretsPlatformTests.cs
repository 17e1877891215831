using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using MassTransit;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Modal.Api;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Secrets;
using Modal.Contracts.Apps;
using Modal.Deployment;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;
using Modal.Secrets;
using Modal.Storage;
using Npgsql;
using Refit;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Storage, Secrets, Api and a GpuRunner on the real infrastructure, each recording what it lets out (logs at every
/// level, exported spans, bus messages), with the Secrets example deployed: its named secret holds a random canary.
/// </summary>
public sealed class SecretsPlatformFixture : IAsyncLifetime
{
    public const string SecretName = "example-greeting";
    public const string SecretsHost = "http://secrets.test/";

    public LeakRecorder Recorder { get; } = new();
    public string Canary { get; } = $"canary-{Guid.NewGuid():N}";
    public ServiceFactory<StorageOptions> Storage { get; private set; } = null!;
    public ServiceFactory<SecretsOptions> Secrets { get; private set; } = null!;
    public ServiceFactory<ApiOptions> Api { get; private set; } = null!;
    public ServiceFactory<GpuRunnerOptions> Runner { get; private set; } = null!;
    public ServiceFactory<SchedulerOptions> Scheduler { get; private set; } = null!;
    public ModalClient Client { get; private set; } = null!;
    public DeploymentResult Example { get; private set; } = null!;

    private readonly string _runnerRoot = Path.Combine(Path.GetTempPath(), $"modal-runner-{Guid.NewGuid():N}"[..24]);

    public async Task InitializeAsync()
    {
        Storage = new ServiceFactory<StorageOptions> { ConfigureServices = Recorder.Register };
        Secrets = new ServiceFactory<SecretsOptions>(TestSecretKeys.Settings()) { ConfigureServices = Recorder.Register };
        var storageUrl = Storage.CreateClient().BaseAddress!.ToString();
        _ = Secrets.CreateClient();
        Runner = new ServiceFactory<GpuRunnerOptions>(
            ("GpuRunner:RunnerId", $"secrets-{Guid.NewGuid():N}"[..16]),
            ("GpuRunner:StorageUrl", storageUrl),
            ("GpuRunner:SecretsUrl", SecretsHost),
            ("GpuRunner:RunnerKey", TestSecretKeys.RunnerKey),
            ("GpuRunner:CacheDirectory", Path.Combine(_runnerRoot, "cache")),
            ("GpuRunner:RuntimeDirectory", Path.Combine(_runnerRoot, "run")))
        {
            ConfigureServices = services =>
            {
                Recorder.Register(services);
                services.AddHttpClient("storage").ConfigurePrimaryHttpMessageHandler(() => Storage.Server.CreateHandler());
                services.AddHttpClient("secrets").ConfigurePrimaryHttpMessageHandler(() => Secrets.Server.CreateHandler());
            },
        };
        Api = new ServiceFactory<ApiOptions>(("Api:StorageUrl", storageUrl), ("Api:SecretsUrl", SecretsHost))
        {
            ConfigureServices = services =>
            {
                Recorder.Register(services);
                services.AddSingleton<IForwarderHttpClientFactory>(new HostRoutingForwarderFactory(Storage.Server, Secrets.Server));
                services.AddHttpClient("storage").ConfigurePrimaryHttpMessageHandler(() => Storage.Server.CreateHandler());
                services.AddHttpClient("secrets").ConfigurePrimaryHttpMessageHandler(() => Secrets.Server.CreateHandler());
            },
        };
        var apiHttp = Api.CreateClient();
        var (id, secret) = InfrastructureFixture.ReadTokenFile(Environment.GetEnvironmentVariable("Api__FirstTokenFile")!);
        apiHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{id}:{secret}");
        Client = new ModalClient(apiHttp);

        await Client.Secrets.ReplaceAsync(SecretName, new SecretValuesRequest(new Dictionary<string, string>
        {
            ["GREETING"] = "hello", ["CANARY"] = Canary,
        }));
        // Without the Scheduler nothing starts containers.
        Scheduler = new ServiceFactory<SchedulerOptions>(("Scheduler:ScalingInterval", "00:00:00.250")) { ConfigureServices = Recorder.Register };
        _ = Scheduler.CreateClient();
        Example = await AppDeployer.DeployAsync(Client, Examples.OutputDirectory("Secrets"), "Secrets.dll");
        _ = Runner.CreateClient();
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        foreach (var service in new IAsyncDisposable?[] { Runner, Scheduler, Api, Secrets, Storage })
        {
            if (service is not null)
            {
                await service.DisposeAsync();
            }
        }
        if (Directory.Exists(_runnerRoot))
        {
            Directory.Delete(_runnerRoot, recursive: true);
        }
    }

    /// <summary>An app of one function, <c>fingerprint</c>, running the example's bundle with <paramref name="secrets"/>: a fresh container.</summary>
    public async Task<RemoteFunction> DeployFingerprintAsync(string appName, params Secret[] secrets)
    {
        var app = new App(appName) { Client = Client };
        app.Function("fingerprint", (string variable) => (string?)null, new FunctionOptions { Secrets = secrets });
        await app.DeployAsync(bundleId: Example.Bundle.Id);
        return Function.FromName(Client, appName, "fingerprint");
    }

    /// <summary>A container token of the example app, asked for over the bus exactly as the fixture's runner asks for its containers'.</summary>
    public async Task<(string Id, string Secret)> IssueContainerTokenAsync()
    {
        var workspace = (await Client.Workspaces.ListAsync()).Single();
        Assert.True(AppIds.TryParse(Example.App.Id, out var appId));
        var requests = Runner.Services.GetRequiredService<IBus>().CreateRequestClient<IssueContainerToken>();
        var token = await requests.GetResponse<ContainerToken>(
            new IssueContainerToken { WorkspaceId = workspace.Id, AppId = appId, RunnerId = $"probe-{Guid.NewGuid():N}"[..16] });
        return (token.Message.TokenId, token.Message.TokenSecret);
    }

    public static string Sha256(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}

/// <summary>Lets the Api's YARP forwarder reach the in-process Storage and Secrets services, told apart by host.</summary>
public sealed class HostRoutingForwarderFactory(TestServer storage, TestServer secrets) : IForwarderHttpClientFactory
{
    public HttpMessageInvoker CreateClient(ForwarderHttpClientContext context) => new(new Router(storage.CreateHandler(), secrets.CreateHandler()));

    private sealed class Router(HttpMessageHandler storage, HttpMessageHandler secrets) : HttpMessageHandler
    {
        private readonly HttpMessageInvoker _storage = new(storage), _secrets = new(secrets);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            (request.RequestUri!.Host == new Uri(SecretsPlatformFixture.SecretsHost).Host ? _secrets : _storage).SendAsync(request, cancellationToken);
    }
}

[Collection(InfrastructureTestGroup.Name)]
public sealed class SecretsPlatformTests(SecretsPlatformFixture platform, InfrastructureFixture infrastructure) : IClassFixture<SecretsPlatformFixture>
{
    [Fact]
    public async Task RemoteAsync_FunctionWithNamedAndLocalSecrets_ReadsBothFromItsEnvironment()
    {
        var greet = Function.FromName(platform.Client, "example-secrets", "greet");

        Assert.Equal("hello, world!", await greet.RemoteAsync<string>(new { name = "world" }));
        // The FromDictionary secret was stored at deploy under its app/function name, not sent with the manifest.
        Assert.Equal(["PUNCTUATION"], (await Secret.InfoAsync(platform.Client, "example-secrets.greet.1")).Keys);
    }

    [Fact]
    public async Task Deploy_RequiredKeyMissing_FailsNamingSecretAndKeyBeforeAnyContainer()
    {
        var app = new App($"secrets-missing-key-{Guid.NewGuid():N}"[..28]) { Client = platform.Client };
        app.Function("fingerprint", (string variable) => (string?)null,
            new FunctionOptions { Secrets = [Secret.FromName(SecretsPlatformFixture.SecretName, ["GREETING", "NOT_THERE"])] });

        var refused = await Assert.ThrowsAnyAsync<ApiException>(() => app.DeployAsync(bundleId: platform.Example.Bundle.Id));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains($"Secret '{SecretsPlatformFixture.SecretName}' is missing required key 'NOT_THERE'", refused.Content, StringComparison.Ordinal);
        var notDeployed = await Assert.ThrowsAnyAsync<ApiException>(() => platform.Client.Apps.GetAsync(app.Name));
        Assert.Equal(HttpStatusCode.NotFound, notDeployed.StatusCode);
    }

    [Fact]
    public async Task RemoteAsync_SecretDeletedAfterDeploy_FailsNamingItThenRunsOnceItExistsAgain()
    {
        var name = $"doomed-{Guid.NewGuid():N}"[..20];
        await Secret.CreateAsync(platform.Client, name, new Dictionary<string, string> { ["KEY"] = "first" });
        var fingerprint = await platform.DeployFingerprintAsync($"secrets-doomed-{Guid.NewGuid():N}"[..24], Secret.FromName(name, ["KEY"]));
        await Secret.DeleteAsync(platform.Client, name);

        var failed = await Assert.ThrowsAsync<RemoteFunctionException>(() => fingerprint.RemoteAsync<string?>(new { variable = "KEY" }));

        Assert.Equal("Modal.MissingSecretException", failed.RemoteType);
        Assert.Contains($"Secret '{name}' does not exist", failed.Message, StringComparison.Ordinal);
        await Secret.CreateAsync(platform.Client, name, new Dictionary<string, string> { ["KEY"] = "second" });
        Assert.Equal(SecretsPlatformFixture.Sha256("second"), await fingerprint.RemoteAsync<string?>(new { variable = "KEY" }));
    }

    [Fact]
    public async Task Secret_OfAnotherWorkspace_IsInvisible()
    {
        var otherWorkspace = Guid.NewGuid();
        using var otherClient = platform.Secrets.CreateDefaultClient(new WorkspaceSigningHandler(TestSecretKeys.SecretCredentials(), otherWorkspace));
        var name = $"elsewhere-{Guid.NewGuid():N}"[..20];
        var created = await otherClient.PostAsJsonAsync("/v1/secrets", new { name, values = new Dictionary<string, string> { ["KEY"] = "theirs" } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        await Assert.ThrowsAsync<NotFoundException>(() => Secret.InfoAsync(platform.Client, name));
        Assert.DoesNotContain(await Secret.ListAsync(platform.Client), s => s.Name == name);
        // A client naming the other workspace itself is overruled by its token's workspace.
        using var forged = new HttpRequestMessage(HttpMethod.Get, $"/v1/secrets/{name}");
        forged.Headers.Add("Modal-Workspace-Id", otherWorkspace.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Client.Http.SendAsync(forged)).StatusCode);
        await Assert.ThrowsAsync<NotFoundException>(() => Secret.DeleteAsync(platform.Client, name));
        var refused = await Assert.ThrowsAnyAsync<ApiException>(() =>
            platform.DeployFingerprintAsync($"secrets-elsewhere-{Guid.NewGuid():N}"[..26], Secret.FromName(name)));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await otherClient.GetAsync($"/v1/secrets/{name}")).StatusCode);
    }

    [Fact]
    public async Task Values_AreNeverReadableWithAClientToken_OnlyWithTheRunnerKey()
    {
        var info = await platform.Client.Http.GetStringAsync($"/v1/secrets/{SecretsPlatformFixture.SecretName}");
        var resolve = new { workspaceId = (await platform.Client.Workspaces.ListAsync()).Single().Id, secrets = new[] { new { name = SecretsPlatformFixture.SecretName } } };
        var throughApi = await platform.Client.Http.PostAsJsonAsync("/internal/v1/secrets/resolve", resolve);
        using var direct = platform.Secrets.CreateClient();
        var withoutKey = await direct.PostAsJsonAsync("/internal/v1/secrets/resolve", resolve);
        direct.DefaultRequestHeaders.Add("Modal-Runner-Key", TestSecretKeys.RunnerKey[..^2] + "AA");
        var withWrongKey = await direct.PostAsJsonAsync("/internal/v1/secrets/resolve", resolve);
        direct.DefaultRequestHeaders.Remove("Modal-Runner-Key");
        direct.DefaultRequestHeaders.Add("Modal-Runner-Key", TestSecretKeys.RunnerKey);
        var asRunner = await direct.PostAsJsonAsync("/internal/v1/secrets/resolve", resolve);

        Assert.DoesNotContain(platform.Canary, info, StringComparison.Ordinal);
        Assert.Contains("CANARY", info, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, throughApi.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withWrongKey.StatusCode);
        Assert.Contains(platform.Canary, await asRunner.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Canary_AfterAFullRun_IsSeenByTheFunctionAndAppearsInNoLogTraceBusMessageOrDatabase()
    {
        await Secret.UpdateAsync(platform.Client, SecretsPlatformFixture.SecretName, new Dictionary<string, string> { ["CANARY_COPY"] = platform.Canary });
        var fingerprint = await platform.DeployFingerprintAsync($"secrets-canary-{Guid.NewGuid():N}"[..24],
            Secret.FromName(SecretsPlatformFixture.SecretName, ["CANARY", "CANARY_COPY"]),
            Secret.FromDictionary(new Dictionary<string, string?> { ["LOCAL_CANARY"] = platform.Canary }));

        Assert.Equal(SecretsPlatformFixture.Sha256(platform.Canary), await fingerprint.RemoteAsync<string?>(new { variable = "CANARY" }));
        Assert.Equal(SecretsPlatformFixture.Sha256(platform.Canary), await fingerprint.RemoteAsync<string?>(new { variable = "CANARY_COPY" }));
        Assert.Equal(SecretsPlatformFixture.Sha256(platform.Canary), await fingerprint.RemoteAsync<string?>(new { variable = "LOCAL_CANARY" }));

        var logs = platform.Recorder.Logs.ToArray();
        var spans = platform.Recorder.Spans();
        var messages = platform.Recorder.BusMessages.ToArray();
        var dumps = await DumpDatabasesAsync();
        // The recorders saw the run (so an absence below means something): the container start, the runner's read of
        // the values, the call's events, the secret's row.
        Assert.Contains(logs, line => line.Contains("started for secrets-canary", StringComparison.Ordinal));
        Assert.Contains(spans, span => span.Contains("/internal/v1/secrets/resolve", StringComparison.Ordinal));
        Assert.Contains(messages, message => message.StartsWith("Modal.Contracts.Calls.FunctionCallSucceeded", StringComparison.Ordinal));
        Assert.Contains(messages, message => message.Contains(SecretsPlatformFixture.SecretName, StringComparison.Ordinal));
        Assert.Contains(dumps, dump => dump.Database == "modal_secrets" && dump.Text.Contains(SecretsPlatformFixture.SecretName, StringComparison.Ordinal));
        Assert.Contains(dumps, dump => dump.Database == "modal_api");
        foreach (var secret in new[] { platform.Canary, TestSecretKeys.RunnerKey, TestSecretKeys.SharedKey })
        {
            Assert.DoesNotContain(logs, line => line.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(spans, span => span.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(messages, message => message.Contains(secret, StringComparison.Ordinal));
            Assert.DoesNotContain(dumps, dump => dump.Text.Contains(secret, StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("GET", "/v1/secrets", null)]
    [InlineData("GET", $"/v1/secrets/{SecretsPlatformFixture.SecretName}", null)]
    [InlineData("POST", "/v1/secrets", """{"name": "made-in-a-container", "values": {"KEY": "value"}}""")]
    [InlineData("PUT", $"/v1/secrets/{SecretsPlatformFixture.SecretName}", """{"values": {"GREETING": "replaced"}}""")]
    public async Task ContainerToken_SecretsRoute_Returns403ProblemAndLeavesSecretsAlone(string method, string path, string? body)
    {
        var (id, secret) = await platform.IssueContainerTokenAsync();
        using var container = platform.Api.CreateClient();
        container.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{id}:{secret}");
        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        };

        using var response = await container.SendAsync(request);

        await SpineTests.AssertRefusedAsync(response, platform.Example.App.Id);
        Assert.DoesNotContain(await Secret.ListAsync(platform.Client), s => s.Name == "made-in-a-container");
        Assert.Equal("hello, world!", await Function.FromName(platform.Client, "example-secrets", "greet").RemoteAsync<string>(new { name = "world" }));
    }

    /// <summary>A <c>pg_dump</c> (schema and data) of every database of the test server.</summary>
    private async Task<List<(string Database, string Text)>> DumpDatabasesAsync()
    {
        var databases = new List<string>();
        await using (var connection = new NpgsqlConnection($"{infrastructure.AdminPostgresConnectionString};Database=postgres"))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                databases.Add(reader.GetString(0));
            }
        }
        var pgDump = Directory.GetDirectories("/usr/lib/postgresql").Order().Select(d => Path.Combine(d, "bin", "pg_dump")).Last(File.Exists);
        var server = new NpgsqlConnectionStringBuilder(infrastructure.AdminPostgresConnectionString);
        var dumps = new List<(string, string)>();
        foreach (var database in databases)
        {
            var start = new ProcessStartInfo(pgDump) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["PGPASSWORD"] = server.Password;
            foreach (var argument in new[] { "-h", server.Host!, "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", server.Username!, database })
            {
                start.ArgumentList.Add(argument);
            }
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"pg_dump {database} failed: {await error}");
            dumps.Add((database, await output));
        }
        return dumps;
    }
}
