using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Modal.GpuRunner;
using Modal.GpuRunner.Containers;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Containers of the real runner (bubblewrap backend, chosen by <c>auto</c> on a host that permits namespaces) running
/// examples/Isolation: what they see of the node and of each other, their Volumes at their mount paths, their memory
/// limit, who they run as, the system calls they may not make and their network (egress to a namespace the test makes,
/// none to the node's own addresses).
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class ContainerIsolationTests(SpineFixture spine) : IClassFixture<SpineFixture>
{
    private const string HeldValue = "held-by-another-function-7f3a";

    [Fact]
    public async Task Container_Bubblewrap_SeesNeitherOtherContainersNorTheRunnersFilesNorOtherProcesses()
    {
        var app = await spine.DeployExampleAsync("Isolation");
        var marker = $"iso-{Guid.NewGuid():N}";

        Assert.Equal("bubblewrap", await Function.FromName(spine.Client, app, "isolation").RemoteAsync<string>(new { }));
        Assert.True(await Function.FromName(spine.Client, app, "write_tmp").RemoteAsync<bool>(new { name = marker }));
        Assert.Equal(HeldValue, await Function.FromName(spine.Client, app, "hold").RemoteAsync<string>(new { }));
        var cache = Path.Combine(spine.RunnerRoot, "cache");
        var runtime = Path.Combine(spine.RunnerRoot, "run");
        Assert.True(Directory.Exists(cache) && Directory.Exists(runtime), "the runner's folders exist on the node");
        // The holder's container is alive and its environment is readable from the node: the value is there to find.
        Assert.Contains(Directory.EnumerateDirectories("/proc"), process => ReadOrEmpty(Path.Combine(process, "environ")).Contains(HeldValue, StringComparison.Ordinal));

        var seen = await Function.FromName(spine.Client, app, "look").RemoteAsync<string>(new
        {
            paths = string.Join('\n', $"/tmp/{marker}", cache, runtime, spine.RunnerRoot, "/root", "/app/Isolation.dll", "/run/modal/fn.sock",
                "/run/modal-platform/platform.sock"),
        });
        var processes = await Function.FromName(spine.Client, app, "processes").RemoteAsync<string>(new { });
        var holders = await Function.FromName(spine.Client, app, "find_environment_value").RemoteAsync<int>(new { value = HeldValue });

        Assert.Equal(
            [$"/tmp/{marker}=absent", $"{cache}=absent", $"{runtime}=absent", $"{spine.RunnerRoot}=absent", "/root=absent",
                "/app/Isolation.dll=visible", "/run/modal/fn.sock=visible", "/run/modal-platform/platform.sock=visible"],
            seen.Split('\n'));
        // Its own pid namespace: bubblewrap's init and the function server, nothing of the node or other containers.
        Assert.All(processes.Split(','), process => Assert.Matches("^[12]:(bwrap|dotnet)$", process));
        Assert.Equal(0, holders);
    }

    [Fact]
    public async Task Volume_FileWrittenAtItsMountPathAndCommittedInside_AnotherContainerReadsIt()
    {
        var app = await spine.DeployExampleAsync("Isolation");
        var name = $"out-{Guid.NewGuid():N}.txt";

        var path = await Function.FromName(spine.Client, app, "write_data").RemoteAsync<string>(new { name, text = "written at /data" });
        var read = await Function.FromName(spine.Client, app, "read_data").RemoteAsync<string>(new { name });

        Assert.Equal($"/data/{name}", path);
        Assert.Equal("written at /data", read);
        // Committed by Volume.CommitAsync inside the container, not at its stop: the app is still running.
        var volume = Volume.FromName(spine.Client, "example-isolation-data");
        await using var stored = await volume.ReadFileAsync($"/{name}");
        Assert.Equal("written at /data", await new StreamReader(stored).ReadToEndAsync());
    }

    [Fact]
    public async Task Allocate_PastItsMemoryLimit_FailsOutOfMemoryWhileTheRunnerAndOtherContainersCarryOn()
    {
        var app = await spine.DeployExampleAsync("Isolation");
        var allocate = Function.FromName(spine.Client, app, "allocate");
        var processes = Function.FromName(spine.Client, app, "processes");
        var before = await processes.RemoteAsync<string>(new { });

        var error = await Assert.ThrowsAsync<RemoteFunctionException>(() => allocate.RemoteAsync<int>(new { mib = 1024 }));

        Assert.Equal(ContainerOutOfMemoryException.RemoteType, error.RemoteType);
        Assert.Contains("allocate", error.Message, StringComparison.Ordinal);
        Assert.Contains("160 MiB", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await processes.RemoteAsync<string>(new { })); // Another container, untouched, answers.
        Assert.Equal(16, await allocate.RemoteAsync<int>(new { mib = 16 })); // Its function gets a fresh container.
        var health = await HealthReport.ReadAsync(spine.Runner!.CreateClient());
        Assert.Equal("Healthy", health.CheckStatus("container-isolation"));
    }

    [Fact]
    public async Task Function_ReachesADictThroughThePlatformSocket()
    {
        var app = await spine.DeployExampleAsync("Isolation");
        var dict = $"iso-{Guid.NewGuid():N}"[..20];

        await Function.FromName(spine.Client, app, "dict_put").RemoteAsync<string>(new { dict, value = "from a container" });

        var stored = Dict.FromName(spine.Client, dict);
        Assert.Equal("from a container", await stored.GetAsync<string>("from-container"));
    }

    [Fact]
    public async Task BlockNetwork_DictQueueVolumeAndNestedCall_WorkThroughThePlatformSocket()
    {
        var app = await spine.DeployExampleAsync("Isolation");
        var name = $"sock-{Guid.NewGuid():N}"[..20];

        // No network at all in that container (a TCP connect to the Api fails, above): only the socket reaches the platform.
        var answer = await Function.FromName(spine.Client, app, "platform_blocked").RemoteAsync<string>(new { name, value = "through the socket" });

        Assert.Equal("through the socket|through the socket|bubblewrap", answer);
        Assert.Equal("through the socket", await Dict.FromName(spine.Client, name).GetAsync<string>("from-container"));
        var volume = Volume.FromName(spine.Client, "example-isolation-data");
        await using var stored = await volume.ReadFileAsync($"/{name}.txt");
        Assert.Equal("through the socket", await new StreamReader(stored).ReadToEndAsync());
    }

    [Fact]
    public async Task ContainerToken_AfterItsContainerStopped_Is401WhileTheAppRuns()
    {
        var app = await spine.DeployExampleAsync("Isolation");

        // A single-use container: it stops once this call is answered.
        var token = await Function.FromName(spine.Client, app, "token_once").RemoteAsync<string>(new { });
        var tokenId = token.Split(':')[0];
        using var holder = spine.Api!.CreateClient();
        holder.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

        var refused = await Eventually.ReturnsAsync(
            async () => (await holder.GetAsync(new Uri("/v1/workspaces", UriKind.Relative))).StatusCode,
            status => status == System.Net.HttpStatusCode.Unauthorized, "the stopped container's token is refused");

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused);
        var listed = Assert.Single(await spine.Client.Tokens.ListAsync(), t => t.Id == tokenId);
        Assert.Equal((Modal.Api.Contracts.Tokens.TokenScopes.Container, true), (listed.Scope, listed.RevokedAt is not null));
        // The app runs on, and its other containers keep their own tokens.
        Assert.Equal("Deployed", (await spine.Client.Apps.GetAsync(app)).State);
        var dict = $"iso-{Guid.NewGuid():N}"[..20];
        Assert.Equal("after", await Function.FromName(spine.Client, app, "dict_put").RemoteAsync<string>(new { dict, value = "after" }));
    }

    [Fact]
    public async Task Container_Bubblewrap_RunsAsANonRootUidWithoutCapabilitiesOrRootsFiles()
    {
        var app = await spine.DeployExampleAsync("Isolation");

        var identity = await Function.FromName(spine.Client, app, "identity").RemoteAsync<string>(new { });
        var shadow = await Function.FromName(spine.Client, app, "read_file").RemoteAsync<string>(new { path = "/etc/shadow" });
        var passwd = await Function.FromName(spine.Client, app, "read_file").RemoteAsync<string>(new { path = "/etc/passwd" });

        Assert.Equal($"uid={new GpuRunnerOptions().ContainerUid} capeff=0000000000000000", identity);
        Assert.StartsWith("denied", shadow, StringComparison.Ordinal);
        Assert.Equal("read", passwd); // The system stays readable: the denial above is about root's file, not the mount.
    }

    [Fact]
    public async Task Container_Bubblewrap_ForbiddenSystemCallsFailWithEperm()
    {
        var app = await spine.DeployExampleAsync("Isolation");

        var calls = await Function.FromName(spine.Client, app, "forbidden_calls").RemoteAsync<string>(new { });

        Assert.Equal("mount=EPERM,raw_socket=EPERM,packet_socket=EPERM,ptrace=EPERM,unshare_user=EPERM", calls);
    }

    [Fact]
    public async Task Container_Bubblewrap_TmpIsLimitedToTheConfiguredSize()
    {
        var app = await spine.DeployExampleAsync("Isolation");

        var size = await Function.FromName(spine.Client, app, "tmp_size").RemoteAsync<long>(new { });

        Assert.Equal(new GpuRunnerOptions().ContainerTmpMiB * 1024L * 1024, size);
    }

    [Fact]
    public async Task Network_OutsideReachable_NodeAddressesLoopbackAndGatewayRefused_BlockNetworkHasNoEgress()
    {
        var app = await spine.DeployExampleAsync("Isolation");
        using var outside = new TestNetworkNamespace();
        using var loopback = new TcpListener(IPAddress.Loopback, 0);
        loopback.Start();
        var loopbackPort = ((IPEndPoint)loopback.LocalEndpoint).Port;
        var connect = Function.FromName(spine.Client, app, "connect");
        // The listeners answer from the node: a refusal from inside is the container's, not an absent server.
        using (var probe = new TcpClient())
        {
            await probe.ConnectAsync(outside.NodeAddress, outside.NodePort);
        }

        var fetched = await Function.FromName(spine.Client, app, "http_get").RemoteAsync<string>(new { url = outside.ServerUrl.ToString() });
        var nodeAddress = await connect.RemoteAsync<string>(new { host = outside.NodeAddress.ToString(), port = outside.NodePort });
        var nodeLoopback = await connect.RemoteAsync<string>(new { host = "127.0.0.1", port = loopbackPort });
        // slirp4netns's gateway; without --disable-host-loopback it would lead to the node's 127.0.0.1.
        var gateway = await connect.RemoteAsync<string>(new { host = "10.0.2.2", port = loopbackPort });
        var blocked = await Function.FromName(spine.Client, app, "http_get_blocked").RemoteAsync<string>(new { url = outside.ServerUrl.ToString() });

        Assert.Equal($"200 {TestNetworkNamespace.Body}", fetched);
        Assert.StartsWith("failed", nodeAddress, StringComparison.Ordinal);
        Assert.StartsWith("failed", nodeLoopback, StringComparison.Ordinal);
        Assert.StartsWith("failed", gateway, StringComparison.Ordinal);
        Assert.StartsWith("failed", blocked, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_AutoWhereBubblewrapCannotRun_DegradedNamingTheReason()
    {
        await using var runner = new ServiceFactory<GpuRunnerOptions>(
            ("GpuRunner:RunnerId", $"nobwrap-{Guid.NewGuid():N}"[..20]), ("GpuRunner:BubblewrapPath", "/nonexistent/bwrap"));

        var health = await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(runner.CreateClient()),
            report => report.Checks.ContainsKey("container-isolation")
                && report.Checks.Where(check => check.Key != "container-isolation").All(check => check.Value == "Healthy"),
            "the runner reports its container backend and its other checks pass");

        Assert.Equal("Degraded", health.CheckStatus("container-isolation"));
        Assert.Equal("Degraded", health.Status);
    }

    [Fact]
    public async Task Health_WithoutSlirp4netns_DegradedSayingContainersShareTheNodesNetwork()
    {
        await using var runner = new ServiceFactory<GpuRunnerOptions>(
            ("GpuRunner:RunnerId", $"noslirp-{Guid.NewGuid():N}"[..20]), ("GpuRunner:SlirpPath", "/nonexistent/slirp4netns"));

        var health = await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(runner.CreateClient()),
            report => report.Checks.ContainsKey("container-isolation")
                && report.Checks.Where(check => check.Key != "container-isolation").All(check => check.Value == "Healthy"),
            "the runner reports its container backend and its other checks pass");
        var isolation = runner.Services.GetRequiredService<ContainerIsolation>();

        Assert.Equal("Degraded", health.CheckStatus("container-isolation"));
        Assert.Equal("bubblewrap", isolation.Launcher.Backend);
        Assert.Contains("share the node's network", isolation.Weakened, StringComparison.Ordinal);
        Assert.Contains("slirp4netns", isolation.Weakened, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bubblewrap", "bubblewrap")]
    [InlineData("process", "none")]
    public async Task Container_EachBackend_TellsTheContainerItsIsolation(string backend, string expected)
    {
        var runtime = Directory.CreateTempSubdirectory("modal-iso-").FullName;
        var output = new ConcurrentQueue<string>();
        IContainerLauncher launcher = backend == "process"
            ? new ProcessLauncher(DotnetHost.Resolve())
            : new BubblewrapLauncher("bwrap", DotnetHost.Resolve(), new Dictionary<string, string>(), Path.Exists);
        var spec = new ContainerSpec($"iso-{backend}", Examples.OutputDirectory("HelloWorld"), "HelloWorld.dll", new Dictionary<string, string>());
        try
        {
            await using var container = await ContainerProcess.StartAsync(spec, launcher, runtime, TimeSpan.FromSeconds(30),
                (line, _) => output.Enqueue(line), CancellationToken.None);

            var isolation = await container.InvokeAsync("env", """{"name": "MODAL_ISOLATION"}""", "fc-iso", (_, _) => { }, CancellationToken.None);

            Assert.Equal($"\"{expected}\"", isolation.ResultJson);
        }
        finally
        {
            Directory.Delete(runtime, recursive: true);
        }
    }

    [Fact]
    public void Cgroups_ThisHost_EnforcedByCgroupsWhereWritable()
    {
        var cgroups = new Cgroups("/sys/fs/cgroup", NullLogger<Cgroups>.Instance);
        var writable = Directory.Exists("/sys/fs/cgroup/memory") ? IsWritable("/sys/fs/cgroup/memory") : IsWritable("/sys/fs/cgroup");

        Assert.Equal(writable, cgroups.Enforcement != LimitEnforcement.RssWatchdog);
    }

    private static bool IsWritable(string folder)
    {
        var probe = Path.Combine(folder, $"modal-test-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
