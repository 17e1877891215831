using System.Net;
using System.Net.Http.Headers;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Modal.Api;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Secrets;
using Modal.Api.Contracts.Tokens;
using Modal.Deployment;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;
using Modal.Secrets;
using Modal.Storage;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Storage, Secrets, Api and Scheduler on real loopback ports and a GpuRunner (bubblewrap backend where the host allows
/// it), on the real infrastructure, with examples/SecurityProbes deployed: a hostile function's view of the node.
/// </summary>
public sealed class SecurityFixture : IAsyncLifetime
{
    public const string AppName = "example-security-probes";

    public ServiceFactory<StorageOptions> Storage { get; } = new();
    public ServiceFactory<SecretsOptions> Secrets { get; } = new(TestSecretKeys.Settings());
    public ServiceFactory<ApiOptions>? Api { get; private set; }
    public ServiceFactory<SchedulerOptions>? Scheduler { get; private set; }
    public ServiceFactory<GpuRunnerOptions>? Runner { get; private set; }
    public ModalClient Client { get; private set; } = null!;
    public DeploymentResult Probes { get; private set; } = null!;

    /// <summary>The workspace of the install's first token, the only one of this run.</summary>
    public string WorkspaceId { get; private set; } = "";

    /// <summary>The runner's cache (bundles, unpacked: what a container sees at /app) and runtime folders live under here.</summary>
    public string RunnerRoot { get; } = Path.Combine(Path.GetTempPath(), $"modal-runner-{Guid.NewGuid():N}"[..24]);

    public Uri StorageUrl { get; private set; } = null!;
    public Uri SecretsUrl { get; private set; } = null!;
    public Uri ApiUrl { get; private set; } = null!;
    public Uri SchedulerUrl { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // Every service on a real loopback port: what a process on the node, or a container sharing its network, reaches.
        StorageUrl = Listen(Storage);
        SecretsUrl = Listen(Secrets);
        Api = new ServiceFactory<ApiOptions>(("Api:StorageUrl", StorageUrl.ToString()), ("Api:SecretsUrl", SecretsUrl.ToString()));
        ApiUrl = Listen(Api);
        var apiHttp = Api.CreateClient();
        var (id, secret) = InfrastructureFixture.ReadTokenFile(Environment.GetEnvironmentVariable("Api__FirstTokenFile")!);
        apiHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{id}:{secret}");
        Client = new ModalClient(apiHttp);
        WorkspaceId = (await Client.Workspaces.ListAsync()).Single().Id.ToString();

        Scheduler = new ServiceFactory<SchedulerOptions>(("Scheduler:ScalingInterval", "00:00:00.250"), ("Scheduler:RunnerKey", TestSecretKeys.RunnerKey));
        SchedulerUrl = Listen(Scheduler);
        Runner = new ServiceFactory<GpuRunnerOptions>(
            ("GpuRunner:RunnerId", $"security-{Guid.NewGuid():N}"[..16]),
            ("GpuRunner:StorageUrl", StorageUrl.ToString()),
            ("GpuRunner:ApiUrl", ApiUrl.ToString()),
            ("GpuRunner:SecretsUrl", SecretsUrl.ToString()),
            ("GpuRunner:RunnerKey", TestSecretKeys.RunnerKey),
            ("GpuRunner:CacheDirectory", Path.Combine(RunnerRoot, "cache")),
            ("GpuRunner:RuntimeDirectory", Path.Combine(RunnerRoot, "run")));
        Probes = await AppDeployer.DeployAsync(Client, Examples.OutputDirectory("SecurityProbes"), "SecurityProbes.dll");
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
        if (Directory.Exists(RunnerRoot))
        {
            Directory.Delete(RunnerRoot, recursive: true);
        }
    }

    public RemoteFunction Probe(string function) => Function.FromName(Client, AppName, function);

    private static Uri Listen<T>(ServiceFactory<T> service) where T : class
    {
        service.UseKestrel(0);
        service.StartServer();
        return service.CreateClient().BaseAddress!;
    }
}

/// <summary>
/// Issue 17: what a hostile function can do from inside a real container on the real stack. Each test runs one group
/// of examples/SecurityProbes and asserts that every probe of it was refused: by the kernel (no capabilities, no raw
/// sockets), by the network (the node's ports unreachable from the container's own namespace, on 127.0.0.1, on the
/// user-mode network's gateway and on the node's own addresses), or by the server asking who is calling.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class SecurityTests(InfrastructureFixture infrastructure, SecurityFixture security) : IClassFixture<SecurityFixture>
{
    // slirp4netns and passt map this gateway to the host's loopback unless told not to.
    private const string UserModeGateway = "10.0.2.2";

    [Fact]
    public async Task Identity_InsideAContainer_NotRootOnTheNodeAndWithoutCapabilities()
    {
        var results = await security.Probe("identity").RemoteAsync<ProbeResult[]>(new { });

        AssertAllRefused(results, result => result.Name == "capabilities"
            ? "A container's process holds capabilities"
            : "A container's process is root inside its container");
        // Its user on the node, as the node sees it: the container just answered and stays warm, so its process is there.
        var onTheNode = ContainerProcessUids("/app/SecurityProbes.dll");
        Assert.True(onTheNode.Count > 0, "No process of the probes' container was found on the node (/proc/*/cmdline naming /app/SecurityProbes.dll).");
        Assert.All(onTheNode, process => Assert.True(process.Uids.All(uid => uid != 0),
            $"A container's process is root on the node: pid {process.Pid} has uids {string.Join(' ', process.Uids)} (real, effective, saved, fs)."));
    }

    /// <summary>The node's view of every process whose command line names <paramref name="entryAssembly"/>: its pid and its uids.</summary>
    private static List<(int Pid, long[] Uids)> ContainerProcessUids(string entryAssembly)
    {
        var found = new List<(int, long[])>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var pid))
            {
                continue;
            }
            try
            {
                var arguments = File.ReadAllText(Path.Combine(folder, "cmdline")).Split('\0');
                // The dotnet process itself, not bubblewrap or setpriv, whose command lines name it too.
                if (arguments.Length < 2 || Path.GetFileName(arguments[0]) != "dotnet" || arguments[1] != entryAssembly)
                {
                    continue;
                }
                var uidLine = File.ReadLines(Path.Combine(folder, "status")).First(line => line.StartsWith("Uid:", StringComparison.Ordinal));
                found.Add((pid, uidLine["Uid:".Length..].Split('\t', StringSplitOptions.RemoveEmptyEntries)
                    .Select(uid => long.Parse(uid, System.Globalization.CultureInfo.InvariantCulture)).ToArray()));
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
        }
        return found;
    }

    [Fact]
    public async Task Privileges_InsideAContainer_CannotChangeTheNodesInterfacesMountOrMakeDevices()
    {
        var results = await security.Probe("privileges").RemoteAsync<ProbeResult[]>(new { });

        AssertAllRefused(results, result => result.Name switch
        {
            "net-admin" => "A container added an address to the loopback interface",
            "mount" => $"A container mounted a tmpfs at {result.Target}",
            "mknod" => $"A container created a block device node {result.Target}",
            "read-shadow" => "A container read /etc/shadow",
            _ => $"A container ran {result.Name} on {result.Target}",
        });
    }

    [Fact]
    public async Task RawSockets_InsideAContainer_CannotBeOpened()
    {
        var results = await security.Probe("raw_sockets").RemoteAsync<ProbeResult[]>(new { });

        AssertAllRefused(results, result => $"A container opened a raw socket, {result.Target}");
    }

    [Fact]
    public async Task Sniff_AnotherProcessesLoopbackTraffic_NotSeenFromAContainer()
    {
        var canary = $"canary-{Guid.NewGuid():N}";
        var call = await security.Probe("sniff").SpawnAsync<ProbeResult[]>(new { canary, seconds = 10 });
        await Eventually.ReturnsAsync(() => security.Client.Apps.GetCallAsync(call.Id), info => info.State != "Queued", "the sniffer starts");
        var results = call.GetAsync();

        // A bearer token on loopback, as the SDK, the runner and the Api send theirs, until the sniffer gives up.
        using var victim = new HttpClient { BaseAddress = security.ApiUrl };
        victim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", canary);
        while (!results.IsCompleted)
        {
            using var _ = await victim.GetAsync(new Uri("/v1/workspaces", UriKind.Relative));
            await Task.WhenAny(results, Task.Delay(TimeSpan.FromMilliseconds(100)));
        }

        AssertAllRefused(await results, _ => "A container read loopback traffic of the node's processes");
    }

    [Fact]
    public async Task PostgreSql_FromAContainer_RefusedOnEveryAddress_AndRunsNoProgramOnTheNode()
    {
        var marker = $"modal-probe-{Guid.NewGuid():N}";
        var written = Path.Combine("/tmp", marker);
        try
        {
            var results = await NetworkAsync(marker, ("postgres", "PostgreSQL", infrastructure.PostgresPort));

            var ranOnTheNode = File.Exists(written)
                ? [$"A container made PostgreSQL run a program on the node: {written} was written ({File.ReadAllText(written).Trim()})"]
                : Array.Empty<string>();
            AssertNone([.. ranOnTheNode, .. Failures(results, Reachable)]);
        }
        finally
        {
            File.Delete(written);
        }
    }

    [Fact]
    public async Task Redis_FromAContainer_RefusedOnEveryAddress()
    {
        var results = await NetworkAsync(("redis", "Redis", infrastructure.RedisPort));

        AssertReachedNothing(results);
    }

    [Fact]
    public async Task RabbitMq_FromAContainer_RefusedOnEveryAddress()
    {
        var results = await NetworkAsync(
            ("amqp", "RabbitMQ (AMQP)", infrastructure.RabbitMqPort),
            ("rabbitmq-management", "RabbitMQ management", infrastructure.RabbitMqManagementPort));

        AssertReachedNothing(results);
    }

    [Fact]
    public async Task S3_FromAContainer_RefusedOnEveryAddress()
    {
        var results = await NetworkAsync(
            ("s3", "S3", infrastructure.S3Port),
            ("tcp", "Swift account server", infrastructure.S3Port + 1),
            ("tcp", "Swift container server", infrastructure.S3Port + 2),
            ("tcp", "Swift object server", infrastructure.S3Port + 3));

        AssertReachedNothing(results);
    }

    [Fact]
    public async Task Memcached_FromAContainer_RefusedOnEveryAddress()
    {
        var results = await NetworkAsync(("memcached", "memcached", infrastructure.MemcachedPort));

        AssertReachedNothing(results);
    }

    [Fact]
    public async Task SecretsService_FromAContainer_RefusedOnEveryAddress()
    {
        var results = await NetworkAsync(("secrets", "The Secrets service", security.SecretsUrl.Port));

        AssertReachedNothing(results);
    }

    [Fact]
    public async Task SchedulerRunners_FromAContainer_RefusedOnEveryAddress()
    {
        var results = await NetworkAsync(("scheduler", "The Scheduler's runner list", security.SchedulerUrl.Port));

        AssertReachedNothing(results);
    }

    [Fact]
    public async Task StorageBlobs_FromAContainer_RefusedOnEveryAddress()
    {
        var results = await NetworkAsync(("storage-blob", "Storage's blob route", security.StorageUrl.Port));

        AssertReachedNothing(results);
    }

    [Fact]
    public async Task PlatformPorts_FromAContainer_ReachedOnlyThroughTheRunnersSocket()
    {
        var results = await NetworkAsync(("tcp", "The Api's port", security.ApiUrl.Port), ("tcp", "Storage's port", security.StorageUrl.Port));

        AssertReachedNothing(results);
    }

    [Theory]
    [InlineData("scripts/up.sh")]
    [InlineData("AppHost/Properties/launchSettings.json")]
    public void Dashboard_AsTheInstallStartsIt_RefusesAnonymousAccess(string file)
    {
        var text = File.ReadAllText(Path.Combine(RepositoryPaths.Root, file));

        // Anonymous access opens the telemetry API (every service's logs) and the resource pages (key values) to any
        // process on the node, a container sharing its network included.
        Assert.False(
            text.Contains("ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true", StringComparison.OrdinalIgnoreCase)
                || text.Contains("\"ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS\": \"true\"", StringComparison.OrdinalIgnoreCase),
            $"{file} starts the Aspire dashboard with anonymous access (ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS=true)");
    }

    [Fact]
    public async Task ContainerToken_WorkspaceOwnerActionsThroughTheSdk_RefusedAndNothingChanges()
    {
        var victim = await security.Client.Tokens.CreateAsync(new CreateTokenRequest("revoke-target-of-a-probe"));
        var stopTarget = $"stop-target-{Guid.NewGuid():N}"[..24];
        await security.Client.Apps.DeployAsync(stopTarget, new DeployAppRequest([]));
        var secret = $"probe-target-{Guid.NewGuid():N}"[..24];
        await security.Client.Secrets.ReplaceAsync(secret, new SecretValuesRequest(new Dictionary<string, string> { ["KEPT"] = "by its owner" }));
        try
        {
            var results = await security.Probe("workspace_owner_actions").RemoteAsync<ProbeResult[]>(new
            {
                context = $"victim-token={victim.Id}\nstop-app={stopTarget}\nsecret={secret}",
            });

            // Refused means the platform answered 401 or 403: a container that cannot reach the platform at all is
            // broken, not safe, and shows here as an error.
            AssertAllRefused(results, result => $"A container's own token was allowed {result.Target} ({result.Name})");
            Assert.DoesNotContain(await security.Client.Tokens.ListAsync(), token => token.Name == "minted-in-a-container");
            Assert.Equal("Deployed", (await security.Client.Apps.GetAsync(stopTarget)).State);
            using var victimClient = new HttpClient { BaseAddress = security.ApiUrl };
            victimClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{victim.Id}:{victim.Secret}");
            Assert.Equal(HttpStatusCode.OK, (await victimClient.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode);
        }
        finally
        {
            await security.Client.Apps.StopAsync(stopTarget);
            await security.Client.Secrets.DeleteAsync(secret);
        }
    }

    [Fact]
    public async Task ContainerToken_AfterItsContainerEnds_NoLongerAccepted()
    {
        var token = await security.Probe("token_then_exit").RemoteAsync<string>(new { });
        if (token == ":")
        {
            return; // No token in a container's environment: nothing to carry out of it.
        }
        using var thief = new HttpClient { BaseAddress = security.ApiUrl };
        thief.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var app = new Uri($"/v1/apps/{SecurityFixture.AppName}", UriKind.Relative);
        if ((await thief.GetAsync(app)).StatusCode == HttpStatusCode.Unauthorized)
        {
            return; // Useless outside its container (bound to the runner's socket, or already revoked): nothing to steal.
        }

        try
        {
            await Eventually.ReturnsAsync(async () => (await thief.GetAsync(app)).StatusCode, status => status == HttpStatusCode.Unauthorized,
                "the token of a container that ended is refused", TimeSpan.FromSeconds(45));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The token of a container that ended ({token.Split(':')[0]}) was still accepted by the Api 45 s later");
        }
    }

    [Fact]
    public async Task HostFiles_WrittenFromAContainer_NeverReachTheNode()
    {
        var marker = $"modal-probe-{Guid.NewGuid():N}";
        var results = await security.Probe("write_host_files").RemoteAsync<ProbeResult[]>(new { marker });

        // Only the node's copy matters: a write that lands in the container's own layer harms no one else.
        var onTheNode = new[] { Path.Combine("/usr", marker), Path.Combine("/etc", marker) }
            .Concat(Directory.EnumerateFiles(security.RunnerRoot, marker, SearchOption.AllDirectories))
            .Where(File.Exists)
            .ToList();
        onTheNode.ForEach(File.Delete);

        Assert.True(onTheNode.Count == 0, string.Join('\n', onTheNode.Select(path =>
            $"A container wrote {path} on the node ({results.FirstOrDefault(result => result.Target.EndsWith(marker, StringComparison.Ordinal))?.Detail})")));
    }

    /// <summary>The node's own addresses, as a container would find them: every interface's but loopback's and link-local ones.</summary>
    private static IEnumerable<string> NodeAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(nic => nic.OperationalStatus == OperationalStatus.Up)
            .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
            .Select(unicast => unicast.Address)
            .Where(address => !IPAddress.IsLoopback(address) && !address.IsIPv6LinkLocal
                && address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            .Select(address => address.ToString())
            .Distinct();

    private Task<ProbeResult[]> NetworkAsync(params (string Kind, string Name, int Port)[] servers) => NetworkAsync("unused", servers);

    /// <summary>Each server on 127.0.0.1, on the user-mode gateway and on each of the node's own addresses.</summary>
    private async Task<ProbeResult[]> NetworkAsync(string marker, params (string Kind, string Name, int Port)[] servers)
    {
        var hosts = new[] { "127.0.0.1", UserModeGateway }.Concat(NodeAddresses()).ToList();
        var targets = new StringBuilder();
        foreach (var (kind, name, port) in servers)
        {
            foreach (var host in hosts)
            {
                // Names travel space-separated: the probe's name has no spaces.
                targets.Append(System.Globalization.CultureInfo.InvariantCulture, $"{kind} {name.Replace(' ', '\u00a0')} {host} {port}\n");
            }
        }
        var blob = security.Probes.Bundle.LocalFiles.Keys.First();
        var results = await security.Probe("network").RemoteAsync<ProbeResult[]>(new
        {
            targets = targets.ToString(),
            context = $"workspace={security.WorkspaceId}\nblob={blob}\nmarker={marker}\ngateway={UserModeGateway}",
        });
        Assert.Equal(servers.Length * hosts.Count, results.Length);
        return [.. results.Select(result => result with { Name = result.Name.Replace('\u00a0', ' ') })];
    }

    private static string Reachable(ProbeResult result) => $"{result.Name} at {result.Target} was reachable from inside a container";

    private static void AssertReachedNothing(ProbeResult[] results) => AssertAllRefused(results, Reachable);

    /// <summary>Fails with one line per probe that was not refused, each saying what a person has to close.</summary>
    private static void AssertAllRefused(ProbeResult[] results, Func<ProbeResult, string> describe) => AssertNone(Failures(results, describe));

    private static List<string> Failures(ProbeResult[] results, Func<ProbeResult, string> describe)
    {
        Assert.NotEmpty(results);
        return [.. results
            .Where(result => result.Outcome != "refused")
            .Select(result => result.Outcome == "allowed"
                ? $"{describe(result)}: {result.Detail}"
                : $"{result.Name} at {result.Target} could not be probed ({result.Outcome}): {result.Detail}")];
    }

    private static void AssertNone(List<string> failures) => Assert.True(failures.Count == 0, string.Join('\n', failures));

    /// <summary>One probe's finding, as examples/SecurityProbes returns it.</summary>
    public sealed record ProbeResult(string Name, string Target, string Outcome, string Detail);
}
