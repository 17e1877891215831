using System.Net.Http.Headers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Modal.Api;
using Modal.Storage;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Storage and the Api on the real infrastructure, the Api forwarding to Storage (YARP) as deployed, and an SDK
/// client signed in with the install's first token: what a user's Dict and Queue calls go through.
/// <see cref="StartAsync"/> overrides Storage's configuration (short TTLs).
/// </summary>
public sealed class StorageBehindApi : IAsyncLifetime, IAsyncDisposable
{
    public ServiceFactory<StorageOptions> Storage { get; }
    public ServiceFactory<ApiOptions> Api { get; private set; } = null!;
    public ModalClient Client { get; private set; } = null!;

    // xunit requires a class fixture to have exactly one public constructor.
    public StorageBehindApi() : this([])
    {
    }

    private StorageBehindApi((string Key, string Value)[] storageSettings) => Storage = new(storageSettings);

    /// <summary>Starts both services; the collection's <see cref="InfrastructureFixture"/> must have started the stores.</summary>
    public Task InitializeAsync()
    {
        var storageHttp = Storage.CreateClient();
        Api = new ServiceFactory<ApiOptions>(("Api:StorageUrl", storageHttp.BaseAddress!.ToString()))
        {
            ConfigureServices = services => services.AddSingleton<IForwarderHttpClientFactory>(new TestServerForwarderFactory(Storage.Server)),
        };
        var apiHttp = Api.CreateClient();
        // Long polls wait up to 50 s on the server; the test server's client must not give up first.
        apiHttp.Timeout = TimeSpan.FromMinutes(2);
        // A class fixture cannot take the collection's fixture in xunit 2; it set this path.
        var (id, secret) = InfrastructureFixture.ReadTokenFile(Environment.GetEnvironmentVariable("Api__FirstTokenFile")!);
        apiHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", $"{id}:{secret}");
        Client = new ModalClient(apiHttp);
        return Task.CompletedTask;
    }

    /// <summary>A client of Storage itself, sending <paramref name="workspaceId"/> as the Api would.</summary>
    public HttpClient StorageClientFor(Guid workspaceId)
    {
        var client = Storage.CreateClient();
        client.DefaultRequestHeaders.Add("Modal-Workspace-Id", workspaceId.ToString());
        return client;
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (Api is not null)
        {
            await Api.DisposeAsync();
        }
        await Storage.DisposeAsync();
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    /// <summary>Starts one with <paramref name="storageSettings"/> for a single test.</summary>
    public static async Task<StorageBehindApi> StartAsync(params (string Key, string Value)[] storageSettings)
    {
        var platform = new StorageBehindApi(storageSettings);
        await platform.InitializeAsync();
        return platform;
    }
}

/// <summary>Lets the Api's YARP forwarder reach an in-process Storage service through its test server.</summary>
public sealed class TestServerForwarderFactory(TestServer storage) : IForwarderHttpClientFactory
{
    public HttpMessageInvoker CreateClient(ForwarderHttpClientContext context) => new(storage.CreateHandler());
}
