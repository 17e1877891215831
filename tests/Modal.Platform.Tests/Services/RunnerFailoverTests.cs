using System.Net.Http.Headers;
using Modal.Api;
using Modal.Contracts.Calls;
using Modal.Deployment;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// A runner that dies mid-call (killed with its containers, as a machine failing) leaves the input unacknowledged;
/// the broker delivers it again to another runner, and the call still completes, with exactly one result.
/// Storage and the runners run as their own processes here, so a runner can be killed outright.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class RunnerFailoverTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    // Searchable by others (0711, not listable): the runners' containers run as a uid of their own, which must reach the
    // runners' cache and runtime folders below it (a temp folder is made 0700).
    private readonly string _root = SearchableTempFolder("modal-failover-");
    private ServiceProcess? _storage;

    public async Task InitializeAsync() => _storage = await ServiceProcess.StartAsync("Storage");

    public async Task DisposeAsync()
    {
        if (_storage is not null)
        {
            await _storage.DisposeAsync();
        }
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task RunnerKilledMidCall_AnotherRunnerCompletesTheCallExactlyOnce()
    {
        await using var platform = StartControlPlane();
        var client = platform.Client;
        var deployment = await AppDeployer.DeployAsync(client, Examples.OutputDirectory("HelloWorld"), "HelloWorld.dll");
        await using var events = await BusEventRecorder.StartAsync<FunctionCallStarted, FunctionCallSucceeded>(infrastructure.RabbitMqConnectionString);

        await using var doomed = await StartRunnerAsync("doomed");
        var call = await Function.FromName(client, deployment.App.Name, "sleep").SpawnAsync<int>(new { milliseconds = 5_000 });
        await Eventually.ReturnsAsync(() => Task.FromResult(Started(events, call.Id)), started => started.Any(e => e.RunnerId == "doomed"),
            "the doomed runner starts the input");
        doomed.Kill();
        await using var survivor = await StartRunnerAsync("survivor");

        Assert.Equal(5_000, await call.GetAsync(TimeSpan.FromMinutes(2)));
        await Eventually.ReturnsAsync(() => Task.FromResult(Started(events, call.Id)), started => started.Any(e => e.RunnerId == "survivor"),
            "the surviving runner's start of the input is published");
        var succeeded = await Eventually.ReturnsAsync(
            () => Task.FromResult(events.Events.OfType<FunctionCallSucceeded>().Where(e => e.FunctionCallId == call.Id).ToArray()),
            all => all.Length > 0, "the success is published");
        Assert.Single(succeeded); // Only the surviving runner finished it: one result.
        Assert.Equal("Succeeded", (await client.Apps.GetCallAsync(call.Id)).State);
    }

    [Fact]
    public async Task RunnerKilledMidMap_EveryInputStillProducesExactlyOneOutput()
    {
        await using var platform = StartControlPlane();
        var client = platform.Client;
        var deployment = await AppDeployer.DeployAsync(client, Examples.OutputDirectory("Maps"), "Maps.dll");
        var functions = MapsExample.MapFunctions.Define(new App(deployment.App.Name) { Client = client });

        await using var doomed = await StartRunnerAsync("doomed-map");
        var map = await functions.SlowSquare.SpawnMapAsync(Enumerable.Range(0, 400));
        var atKill = await Eventually.ReturnsAsync(() => client.Maps.GetAsync(map.Id), progress => progress.Outputs > 0,
            "the doomed runner produces some outputs");
        doomed.Kill();
        await using var survivor = await StartRunnerAsync("survivor-map");

        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var outputs = await map.GetOutputsAsync(deadline.Token).ToListAsync(deadline.Token);

        Assert.InRange(atKill.Outputs, 1, 399); // The kill came mid-map: some inputs were redelivered to the survivor.
        Assert.Equal(Enumerable.Range(0, 400).Select(i => (long)i), outputs.Select(o => o.Index).Order()); // Each input once.
        Assert.All(outputs, o => Assert.Equal(o.Index * o.Index, o.Value));
        var progress = await client.Maps.GetAsync(map.Id);
        Assert.Equal(400, progress.Outputs);
        Assert.True(progress.Finished);
    }

    [Fact]
    public async Task RunnerKilledWhileARetryWaitsOutItsBackoff_TheRetryStillRunsOnAnotherRunner()
    {
        await using var platform = StartControlPlane();
        var client = platform.Client;
        var deployment = await AppDeployer.DeployAsync(client, Examples.OutputDirectory("ErrorsAndRetries"), "ErrorsAndRetries.dll");
        await using var events = await BusEventRecorder.StartAsync<FunctionCallStarted, FunctionCallFailed>(infrastructure.RabbitMqConnectionString);

        await using var doomed = await StartRunnerAsync("doomed-retry");
        // fail_once fails its first attempt and retries 20 s later.
        var call = await Function.FromName(client, deployment.App.Name, "fail_once").SpawnAsync<string>(new { key = "fail-across-runners" });
        await Eventually.ReturnsAsync(
            () => Task.FromResult(events.Events.OfType<FunctionCallFailed>().Any(e => e.FunctionCallId == call.Id && e.WillRetry)),
            failed => failed, "the first attempt fails on the doomed runner and is to be retried");
        doomed.Kill();
        await using var survivor = await StartRunnerAsync("survivor-retry");

        // The retry waited on the broker, not in the runner that died: it comes back to the function's queue and runs.
        await Eventually.ReturnsAsync(() => Task.FromResult(Started(events, call.Id)),
            started => started.Any(e => e.Attempt == 2 && e.RunnerId == "survivor-retry"), "the survivor runs the retry", TimeSpan.FromMinutes(2));
    }

    /// <summary>
    /// The Api and a Scheduler in this process. The Scheduler forgets a runner that misses heartbeats for 3 s (the doomed
    /// one), and starts its containers again on the survivor.
    /// </summary>
    private ControlPlane StartControlPlane()
    {
        var api = new ServiceFactory<ApiOptions>(("Api:StorageUrl", _storage!.Address.ToString()));
        var scheduler = new ServiceFactory<SchedulerOptions>(("Scheduler:ScalingInterval", "00:00:00.250"), ("Scheduler:RunnerTimeout", "00:00:03"));
        _ = scheduler.CreateClient();
        var http = api.CreateClient();
        var (id, secret) = infrastructure.ReadFirstToken();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{id}:{secret}");
        return new ControlPlane(api, scheduler, new ModalClient(http));
    }

    private sealed record ControlPlane(ServiceFactory<ApiOptions> Api, ServiceFactory<SchedulerOptions> Scheduler, ModalClient Client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Scheduler.DisposeAsync();
            await Api.DisposeAsync();
        }
    }

    private static FunctionCallStarted[] Started(BusEventRecorder events, string callId) =>
        events.Events.OfType<FunctionCallStarted>().Where(e => e.FunctionCallId == callId).ToArray();

    private Task<ServiceProcess> StartRunnerAsync(string runnerId) => ServiceProcess.StartAsync("GpuRunner",
        ("GpuRunner:RunnerId", runnerId),
        ("GpuRunner:StorageUrl", _storage!.Address.ToString()),
        ("GpuRunner:CacheDirectory", Path.Combine(_root, runnerId, "cache")),
        ("GpuRunner:RuntimeDirectory", Path.Combine(_root, runnerId, "run")));

    internal static string SearchableTempFolder(string prefix)
    {
        var folder = Directory.CreateTempSubdirectory(prefix).FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }
        return folder;
    }
}
