using System.Net.Http.Headers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Modal.Api;
using Modal.GpuRunner;
using Modal.Scheduler;
using Modal.Storage;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// The in-process platform a service fixture runs on the real infrastructure: Storage, the Api on a real loopback port
/// (containers are processes of their own and reach it over HTTP, as in production) signed in with the install's first
/// token, and the Scheduler and runners a fixture adds, all under one temporary folder. <see cref="DisposeAsync"/> stops
/// the runners, then the Scheduler, then the Api, then Storage, and deletes the folder.
/// </summary>
/// <param name="rootPrefix">How the temporary folder's name starts (<c>modal-runner-</c>); ten random hex digits follow.</param>
public sealed class PlatformServices(string rootPrefix) : IAsyncDisposable
{
    private readonly List<ServiceFactory<GpuRunnerOptions>> _runners = [];
    private ServiceFactory<ApiOptions>? _api;
    private ServiceFactory<SchedulerOptions>? _scheduler;

    public ServiceFactory<StorageOptions> Storage { get; } = new();

    public ServiceFactory<ApiOptions> Api => _api ?? throw NotStarted();

    /// <summary>The Scheduler <see cref="StartScheduler"/> started, if any.</summary>
    public ServiceFactory<SchedulerOptions>? Scheduler => _scheduler;

    /// <summary>The runners this platform disposes, in the order they were added.</summary>
    public IReadOnlyList<ServiceFactory<GpuRunnerOptions>> Runners => _runners;

    /// <summary>A client of Storage's test server.</summary>
    public HttpClient StorageHttp { get; private set; } = null!;

    /// <summary>A client of the Api's real port, with the first token.</summary>
    public HttpClient ApiHttp { get; private set; } = null!;

    /// <summary>The SDK on <see cref="ApiHttp"/>.</summary>
    public ModalClient Client { get; private set; } = null!;

    /// <summary>The runners' cache and runtime folders live under here.</summary>
    public string Root { get; } = Path.Combine(Path.GetTempPath(), $"{rootPrefix}{Guid.NewGuid():N}"[..(rootPrefix.Length + 10)]);

    /// <summary>
    /// Starts Storage and the Api (with <paramref name="apiSettings"/> on top of the Storage address) and signs in; the
    /// collection's <see cref="InfrastructureFixture"/> must have started the stores.
    /// </summary>
    public void Start(params (string Key, string Value)[] apiSettings)
    {
        StorageHttp = Storage.CreateClient();
        _api = new ServiceFactory<ApiOptions>([("Api:StorageUrl", StorageHttp.BaseAddress!.ToString()), .. apiSettings])
        {
            // The Api's blob proxy (YARP) and its blob checks reach the in-process Storage service through its test server.
            ConfigureServices = services =>
            {
                services.AddSingleton<IForwarderHttpClientFactory>(new TestServerForwarderFactory(Storage.Server));
                services.AddHttpClient("storage").ConfigurePrimaryHttpMessageHandler(() => Storage.Server.CreateHandler());
            },
        };
        _api.UseKestrel(0);
        _api.StartServer();
        ApiHttp = _api.CreateClient();
        // The collection's InfrastructureFixture set this path; a class fixture cannot take that fixture in xunit 2.
        var (id, secret) = InfrastructureFixture.ReadTokenFile(Environment.GetEnvironmentVariable("Api__FirstTokenFile")!);
        ApiHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{id}:{secret}");
        Client = new ModalClient(ApiHttp);
    }

    /// <summary>Starts the Scheduler in-process with <paramref name="settings"/>.</summary>
    public ServiceFactory<SchedulerOptions> StartScheduler(params (string Key, string Value)[] settings)
    {
        // Quartz keeps a process-wide registry of schedulers by name: a second in-process Scheduler would collide with the first.
        if (_scheduler is not null)
        {
            throw new InvalidOperationException("This platform already runs a Scheduler in-process; run another as a ServiceProcess.");
        }
        _scheduler = new ServiceFactory<SchedulerOptions>(settings);
        _ = _scheduler.CreateClient();
        return _scheduler;
    }

    /// <summary>Starts runner <paramref name="runnerId"/> in-process (on a test server) with its folders under <see cref="Root"/>.</summary>
    public ServiceFactory<GpuRunnerOptions> StartRunner(string runnerId, params (string Key, string Value)[] settings)
    {
        var runner = AddRunner(runnerId, Root, settings);
        _ = runner.CreateClient();
        return runner;
    }

    /// <summary>
    /// A runner this platform disposes, not started yet (a fixture starts it when its tests need it, on a test server or a
    /// real port); its cache and runtime folders are under <paramref name="folder"/>.
    /// </summary>
    public ServiceFactory<GpuRunnerOptions> AddRunner(string runnerId, string folder, params (string Key, string Value)[] settings)
    {
        var runner = NewRunner(runnerId, folder, settings);
        _runners.Add(runner);
        return runner;
    }

    /// <summary>A runner of this platform, not started, that its caller disposes (a test's runner of its own).</summary>
    public ServiceFactory<GpuRunnerOptions> NewRunner(string runnerId, string folder, params (string Key, string Value)[] settings) =>
        new([
            ("GpuRunner:RunnerId", runnerId),
            ("GpuRunner:StorageUrl", StorageHttp.BaseAddress!.ToString()),
            ("GpuRunner:ApiUrl", ApiHttp.BaseAddress!.ToString()),
            ("GpuRunner:CacheDirectory", Path.Combine(folder, "cache")),
            ("GpuRunner:RuntimeDirectory", Path.Combine(folder, "run")),
            .. settings,
        ])
        {
            // The runner reaches the in-process Storage service through its test server.
            ConfigureServices = services => services.AddHttpClient("storage")
                .ConfigurePrimaryHttpMessageHandler(() => Storage.Server.CreateHandler()),
        };

    public async ValueTask DisposeAsync()
    {
        foreach (var runner in _runners)
        {
            await runner.DisposeAsync();
        }
        foreach (var service in new IAsyncDisposable?[] { _scheduler, _api, Storage })
        {
            if (service is not null)
            {
                await service.DisposeAsync();
            }
        }
        DeleteFolder(Root);
    }

    /// <summary>Deletes <paramref name="folder"/>, again where a part of it vanished meanwhile (a stopped container's runtime folder, removed by the runner as it goes).</summary>
    public static void DeleteFolder(string folder)
    {
        for (var attempt = 1; Directory.Exists(folder); attempt++)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
                // Deleted under us: walk what is left.
            }
        }
    }

    private static InvalidOperationException NotStarted() => new("The platform is not started: call Start first.");
}
