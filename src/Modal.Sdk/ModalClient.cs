using Modal.Rest;

namespace Modal;

/// <summary>A connection to a Modal.Platform Api: the REST clients, authenticated with one workspace token.</summary>
public sealed class ModalClient : IDisposable
{
    private readonly HttpClient _http;
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
    public ModalClient(HttpClient http) : this(http, ownsHttp: false)
    {
    }

    private ModalClient(HttpClient http, bool ownsHttp)
    {
        _http = http;
        _ownsHttp = ownsHttp;
        Apps = ModalRestClient.For<IAppsApi>(http);
        Workspaces = ModalRestClient.For<IWorkspacesApi>(http);
        Tokens = ModalRestClient.For<ITokensApi>(http);
        Blobs = ModalRestClient.For<IBlobsApi>(http);
        Dicts = ModalRestClient.For<IDictsApi>(http);
        Queues = ModalRestClient.For<IQueuesApi>(http);
        Volumes = ModalRestClient.For<IVolumesApi>(http);
        Secrets = ModalRestClient.For<ISecretsApi>(http);
        Maps = ModalRestClient.For<IMapsApi>(http);
    }

    /// <summary>Connects as <c>MODAL_SERVER_URL</c>, <c>MODAL_TOKEN_ID</c> and <c>MODAL_TOKEN_SECRET</c> say.</summary>
    public static ModalClient FromEnvironment() => new(ModalRestClient.ServerFromEnvironment(), ModalCredentials.FromEnvironment());

    /// <summary>The authenticated HTTP client the REST clients share (base address: the Api).</summary>
    public HttpClient Http => _http;

    /// <summary>Apps, functions and calls.</summary>
    public IAppsApi Apps { get; }

    /// <summary>Workspaces visible to the token.</summary>
    public IWorkspacesApi Workspaces { get; }

    /// <summary>Tokens of the workspace.</summary>
    public ITokensApi Tokens { get; }

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
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
