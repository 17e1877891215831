using Modal.Api.Contracts.Storage;
using Modal.Rest;

namespace Modal;

/// <summary>A connection to a Modal.Platform Api: the REST clients, authenticated with one workspace token.</summary>
public sealed class ModalClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly HttpClient _storageHttp;
    private readonly bool _ownsHttp;

    /// <summary>Connects to <paramref name="server"/> with <paramref name="credentials"/>.</summary>
    /// <param name="server">The Api's base address.</param>
    /// <param name="credentials">The workspace token.</param>
    public ModalClient(Uri server, ModalCredentials credentials)
        : this(ModalRestClient.CreateHttpClient(server, credentials), ownsHttp: true)
    {
    }

    /// <summary>Uses an already configured HTTP client (base address and token set), e.g. from a test host.</summary>
    /// <param name="http">The client; not disposed with this object.</param>
    /// <param name="storageHandler">
    /// How to reach Storage when the Api offers direct access (<see cref="IStorageAccessApi"/>); null: over the network.
    /// A test host passes its in-memory Storage server's handler.
    /// </param>
    public ModalClient(HttpClient http, HttpMessageHandler? storageHandler = null) : this(http, ownsHttp: false, storageHandler)
    {
    }

    private ModalClient(HttpClient http, bool ownsHttp, HttpMessageHandler? storageHandler = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _ownsHttp = ownsHttp;
        // Dicts, Queues and Volumes (with their blobs) go straight to Storage when the Api hands out a credential for it,
        // else through the Api; requests name the Api's routes either way.
        StorageRouter = new DirectStorageRouter(http, storageHandler);
        _storageHttp = new HttpClient(StorageRouter) { BaseAddress = http.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        Apps = ModalRestClient.For<IAppsApi>(http);
        Workspaces = ModalRestClient.For<IWorkspacesApi>(http);
        Tokens = ModalRestClient.For<ITokensApi>(http);
        ProxyTokens = ModalRestClient.For<IProxyTokensApi>(http);
        WebEndpoints = ModalRestClient.For<IWebEndpointsApi>(http);
        Blobs = ModalRestClient.For<IBlobsApi>(http);
        StorageAccess = ModalRestClient.For<IStorageAccessApi>(http);
        Dicts = ModalRestClient.For<IDictsApi>(_storageHttp);
        Queues = ModalRestClient.For<IQueuesApi>(_storageHttp);
        Volumes = ModalRestClient.For<IVolumesApi>(_storageHttp);
        Secrets = ModalRestClient.For<ISecretsApi>(http);
        Maps = ModalRestClient.For<IMapsApi>(http);
        Images = ModalRestClient.For<IImagesApi>(http);
    }

    /// <summary>Connects as <c>MODAL_SERVER_URL</c>, <c>MODAL_TOKEN_ID</c> and <c>MODAL_TOKEN_SECRET</c> say.</summary>
    public static ModalClient FromEnvironment() => new(ModalRestClient.ServerFromEnvironment(), ModalCredentials.FromEnvironment());

    /// <summary>The authenticated HTTP client the REST clients share (base address: the Api).</summary>
    public HttpClient Http => _http;

    /// <summary>
    /// The client Dict, Queue and Volume requests (and Volume blobs) go through: the Api's routes, sent straight to Storage
    /// when the Api offers direct access, else to the Api.
    /// </summary>
    public HttpClient StorageHttp => _storageHttp;

    internal DirectStorageRouter StorageRouter { get; }

    /// <summary>Direct access to Storage (used by the SDK itself; see <see cref="StorageHttp"/>).</summary>
    public IStorageAccessApi StorageAccess { get; }

    /// <summary>Container images of the workspace.</summary>
    public IImagesApi Images { get; }

    /// <summary>Apps, functions and calls.</summary>
    public IAppsApi Apps { get; }

    /// <summary>Workspaces visible to the token.</summary>
    public IWorkspacesApi Workspaces { get; }

    /// <summary>Tokens of the workspace.</summary>
    public ITokensApi Tokens { get; }

    /// <summary>Proxy-auth tokens of the workspace (<c>Modal-Key</c>/<c>Modal-Secret</c> pairs for web endpoints).</summary>
    public IProxyTokensApi ProxyTokens { get; }

    /// <summary>Web endpoints of the workspace's running apps, with their URLs.</summary>
    public IWebEndpointsApi WebEndpoints { get; }

    /// <summary>Content-addressed blobs (bundle files, large call payloads).</summary>
    public IBlobsApi Blobs { get; }

    /// <summary>Dicts of the workspace (low level; <see cref="Dict"/> is the typed handle).</summary>
    public IDictsApi Dicts { get; }

    /// <summary>Queues of the workspace (low level; <see cref="Queue"/> is the typed handle).</summary>
    public IQueuesApi Queues { get; }

    /// <summary>Volumes of the workspace (low level; <see cref="Volume"/> is the typed handle).</summary>
    public IVolumesApi Volumes { get; }

    /// <summary>Secrets of the workspace (low level; <see cref="Secret"/> is the high-level API). Values can be written, never read back.</summary>
    public ISecretsApi Secrets { get; }

    /// <summary>Maps (<c>/v1/maps</c>).</summary>
    public IMapsApi Maps { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        _storageHttp.Dispose();
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
