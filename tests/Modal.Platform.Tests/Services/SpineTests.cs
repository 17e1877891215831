using System.Net.Http.Headers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Modal.Api;
using Modal.Contracts.Containers;
using Modal.Deployment;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;
using Modal.Rest;
using Modal.Storage;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Storage, Api and a GpuRunner on the real infrastructure, with the example apps uploaded as bundles and run in real
/// container processes: SDK → Api → RabbitMQ → runner → container → result, as a user's call travels.
/// </summary>
public sealed class SpineFixture : IAsyncLifetime
{
    public ServiceFactory<StorageOptions> Storage { get; } = new();
    public ServiceFactory<ApiOptions>? Api { get; private set; }
    public ServiceFactory<GpuRunnerOptions>? Runner { get; private set; }
    public ModalClient Client { get; private set; } = null!;
    public string HelloWorld { get; private set; } = "";
    public string ErrorsAndRetries { get; private set; } = "";

    private readonly string _runnerRoot = Path.Combine(Path.GetTempPath(), $"modal-runner-{Guid.NewGuid():N}"[..24]);

    public async Task InitializeAsync()
    {
        var storageHttp = Storage.CreateClient();
        Runner = new ServiceFactory<GpuRunnerOptions>(
            ("GpuRunner:RunnerId", $"spine-{Guid.NewGuid():N}"[..16]),
            ("GpuRunner:StorageUrl", storageHttp.BaseAddress!.ToString()),
            ("GpuRunner:CacheDirectory", Path.Combine(_runnerRoot, "cache")),
            ("GpuRunner:RuntimeDirectory", Path.Combine(_runnerRoot, "run")))
        {
            // The runner reaches the in-process Storage service through its test server.
            ConfigureServices = services => services.AddHttpClient("storage")
                .ConfigurePrimaryHttpMessageHandler(() => Storage.Server.CreateHandler()),
        };

        Api = new ServiceFactory<ApiOptions>(("Api:StorageUrl", storageHttp.BaseAddress!.ToString()))
        {
            // The Api's blob proxy (YARP) forwards to the in-process Storage service through its test server.
            ConfigureServices = services => services.AddSingleton<IForwarderHttpClientFactory>(new TestServerForwarderFactory(Storage.Server)),
        };
        var apiHttp = Api.CreateClient();
        // The collection's InfrastructureFixture set this path; a class fixture cannot take that fixture in xunit 2.
        var (id, secret) = InfrastructureFixture.ReadTokenFile(Environment.GetEnvironmentVariable("Api__FirstTokenFile")!);
        apiHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{id}:{secret}");
        Client = new ModalClient(apiHttp);

        HelloWorld = await DeployExampleAsync("HelloWorld");
        ErrorsAndRetries = await DeployExampleAsync("ErrorsAndRetries");
        _ = Runner.CreateClient();
    }

    public async Task DisposeAsync()
    {
        if (Runner is not null)
        {
            await Runner.DisposeAsync();
        }
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }
        await Storage.DisposeAsync();
        Directory.Delete(_runnerRoot, recursive: true);
    }

    /// <summary>What `modal deploy` does with a built app: bundle, upload through the Api's blob proxy, register.</summary>
    private async Task<string> DeployExampleAsync(string example)
    {
        var deployment = await AppDeployer.DeployAsync(Client, Examples.OutputDirectory(example), $"{example}.dll");
        return deployment.App.Name;
    }
}

[Collection(InfrastructureTestGroup.Name)]
public sealed class SpineTests(SpineFixture spine) : IClassFixture<SpineFixture>
{
    [Fact]
    public async Task Deploy_Again_UploadsNothingAndKeepsTheBundle()
    {
        var again = await AppDeployer.DeployAsync(spine.Client, Examples.OutputDirectory("HelloWorld"), "HelloWorld.dll");

        Assert.Equal(0, again.UploadedBlobs);
        Assert.Equal(again.Bundle.Id, again.App.BundleId);
    }

    [Fact]
    public async Task RemoteAsync_HelloWorld_RunsInAContainerAndReturns()
    {
        var f = Function.FromName(spine.Client, spine.HelloWorld, "f");

        Assert.Equal(49, await f.RemoteAsync<int>(new { i = 7 }));
    }

    [Fact]
    public async Task SpawnAndGather_TwentyInputs_AllComplete()
    {
        var f = Function.FromName(spine.Client, spine.HelloWorld, "f");

        var calls = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => f.SpawnAsync<int>(new { i })));
        var results = await FunctionCall.GatherAsync(calls);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => i * i), results);
    }

    [Fact]
    public async Task RemoteAsync_FunctionThrows_CallerGetsRemoteTypeAndStack()
    {
        var divide = Function.FromName(spine.Client, spine.ErrorsAndRetries, "divide");

        var error = await Assert.ThrowsAsync<RemoteFunctionException>(() => divide.RemoteAsync<int>(new { a = 1, b = 0 }));

        Assert.Equal(typeof(DivideByZeroException).FullName, error.RemoteType);
        Assert.Contains("Divide", error.RemoteStackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoteAsync_FailsTwiceWithRetries2_SucceedsOnTheThirdAttempt()
    {
        var flaky = Function.FromName(spine.Client, spine.ErrorsAndRetries, "flaky");

        Assert.Equal("succeeded on attempt 3", await flaky.RemoteAsync<string>(new { caller = "test" }));
    }

    [Fact]
    public async Task RemoteAsync_PastItsTimeout_ThrowsFunctionTimeoutExceptionKillsTheContainerAndTheNextCallWorks()
    {
        await using var events = await BusEventRecorder.StartAsync<ContainerStarted, ContainerStopped>(
            Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq")!);
        var slow = Function.FromName(spine.Client, spine.ErrorsAndRetries, "slow");

        await Assert.ThrowsAsync<FunctionTimeoutException>(() => slow.RemoteAsync<int>(new { seconds = 30 }));
        Assert.Equal(0, await slow.RemoteAsync<int>(new { seconds = 0 }));

        var recorded = await Eventually.ReturnsAsync(() => Task.FromResult(events.Events.ToArray()),
            all => all.OfType<ContainerStopped>().Any(e => e.Reason == "TimedOut")
                && all.OfType<ContainerStarted>().Any(e => e.FunctionName == "slow"),
            "the timed-out container's stop and its replacement's start are published");
        var stopped = recorded.OfType<ContainerStopped>().First(e => e.Reason == "TimedOut");
        Assert.Contains(recorded.OfType<ContainerStarted>(), started => started.FunctionName == "slow" && started.ContainerId != stopped.ContainerId);
    }
}
