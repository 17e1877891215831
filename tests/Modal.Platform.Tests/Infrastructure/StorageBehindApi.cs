using Microsoft.Extensions.Hosting;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Modal.Api;
using Modal.Storage;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Storage and the Api on the real infrastructure, as deployed: the Api forwarding to Storage (YARP) and offering direct
/// access to it, and an SDK client signed in with the install's first token that takes the direct path (into Storage's
/// test server, counted by <see cref="DirectRequests"/>): what a user's Dict and Queue calls go through.
/// <see cref="ProxiedClient"/> is a client of the same install that has no direct path and goes through the Api.
/// <see cref="StartAsync"/> overrides Storage's configuration (short TTLs).
/// </summary>
public sealed class StorageBehindApi : IAsyncLifetime, IAsyncDisposable
{
    public ServiceFactory<StorageOptions> Storage { get; }
    public ServiceFactory<ApiOptions> Api { get; private set; } = null!;
    public ModalClient Client { get; private set; } = null!;

    /// <summary>A client that cannot reach Storage directly (as where the Api offers no direct path) and uses the Api.</summary>
    public ModalClient ProxiedClient { get; private set; } = null!;

    /// <summary>The install's first token, for raw requests to <see cref="Api"/>.</summary>
    public AuthenticationHeaderValue ApiAuthorization { get; private set; } = null!;

    /// <summary>How many requests <see cref="Client"/> sent straight to Storage.</summary>
    public int DirectRequests => _directRequests.Count;

    /// <summary>How many of those Storage answered with a redirect to a presigned S3 URL.</summary>
    public int DirectRedirects => _directRequests.Redirects;

    private readonly CountingHandler _directRequests = new();

    // xunit requires a class fixture to have exactly one public constructor.
    public StorageBehindApi() : this([])
    {
    }

    // Presigned reads as deployed (the tests' S3 endpoint is reachable from the test process); a test may turn them off.
    private StorageBehindApi((string Key, string Value)[] storageSettings) =>
        Storage = new([("Storage:PresignedReads", "true"), .. storageSettings]);

    /// <summary>Starts both services; the collection's <see cref="InfrastructureFixture"/> must have started the stores.</summary>
    public Task InitializeAsync()
    {
        var storageHttp = Storage.CreateClient();
        Api = new ServiceFactory<ApiOptions>(("Api:StorageUrl", storageHttp.BaseAddress!.ToString()),
            ("Api:StoragePublicUrl", storageHttp.BaseAddress!.ToString()))
        {
            ConfigureServices = services => services.AddSingleton<IForwarderHttpClientFactory>(new TestServerForwarderFactory(Storage.Server)),
        };
        // Redirects to S3 are the SDK's to follow (the test server's client would follow them into the test server).
        var apiHttp = Api.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        // Long polls wait up to 50 s on the server; the test server's client must not give up first.
        apiHttp.Timeout = TimeSpan.FromMinutes(2);
        // A class fixture cannot take the collection's fixture in xunit 2; it set this path.
        var (id, secret) = InfrastructureFixture.ReadTokenFile(Environment.GetEnvironmentVariable("Api__FirstTokenFile")!);
        ApiAuthorization = new AuthenticationHeaderValue("Bearer", $"{id}:{secret}");
        apiHttp.DefaultRequestHeaders.Authorization = ApiAuthorization;
        _directRequests.InnerHandler = Storage.Server.CreateHandler();
        Client = new ModalClient(apiHttp, _directRequests);
        var proxiedHttp = Api.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        proxiedHttp.Timeout = apiHttp.Timeout;
        proxiedHttp.DefaultRequestHeaders.Authorization = apiHttp.DefaultRequestHeaders.Authorization;
        // Storage's advertised address is not reachable from this handler: the client must fall back to the Api.
        ProxiedClient = new ModalClient(proxiedHttp, new UnreachableHandler());
        return Task.CompletedTask;
    }

    /// <summary>A client of Storage itself, with a credential for <paramref name="workspaceId"/> as the Api issues them.</summary>
    public HttpClient StorageClientFor(Guid workspaceId)
    {
        var client = Storage.CreateClient();
        client.DefaultRequestHeaders.Add(StorageCredentials.HeaderName, TestSecretKeys.StorageCredentials().Issue(workspaceId).Credential);
        return client;
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        ProxiedClient?.Dispose();
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

/// <summary>Counts the requests that pass through it, and the redirects answered to them.</summary>
public sealed class CountingHandler : DelegatingHandler
{
    private int _count;
    private int _redirects;

    public int Count => Volatile.Read(ref _count);

    public int Redirects => Volatile.Read(ref _redirects);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _count);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.TemporaryRedirect)
        {
            Interlocked.Increment(ref _redirects);
        }
        return response;
    }
}

/// <summary>A network on which nothing answers: every connection fails, as to an address a client cannot reach.</summary>
public sealed class UnreachableHandler : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Task.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (test)."));
}
