using System.Net.Http.Headers;
using Modal.Container.Protocol;
using Refit;

namespace Modal.Rest;

/// <summary>Creates the low-level REST clients, authenticated with a workspace token.</summary>
public static class ModalRestClient
{
    /// <summary>Default Api address of a local install (<c>scripts/up.sh</c>).</summary>
    public static readonly Uri DefaultServer = new("http://127.0.0.1:5080");

    /// <summary>The Api address from <c>MODAL_SERVER_URL</c>, else <see cref="DefaultServer"/>.</summary>
    public static Uri ServerFromEnvironment() =>
        Environment.GetEnvironmentVariable(ModalCredentials.ServerUrlVariable) is { Length: > 0 } url ? new Uri(url) : DefaultServer;

    /// <summary>
    /// An HTTP client for the Api that sends <paramref name="credentials"/> with every request. Inside a container it
    /// connects through the runner's platform socket (<see cref="PlatformConnection"/>), with the same URLs.
    /// </summary>
    /// <param name="server">Base address of the Api.</param>
    /// <param name="credentials">The workspace token.</param>
    public static HttpClient CreateHttpClient(Uri server, ModalCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        var client = new HttpClient(PlatformConnection.CreateHandler()) { BaseAddress = server };
        client.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Bearer", $"{credentials.TokenId}:{credentials.TokenSecret}");
        return client;
    }

    /// <summary>A Refit client of <typeparamref name="TApi"/> (e.g. <see cref="IWorkspacesApi"/>) over <paramref name="http"/>.</summary>
    /// <typeparam name="TApi">One of the REST interfaces of this namespace.</typeparam>
    /// <param name="http">A client from <see cref="CreateHttpClient"/> (or any client that authenticates).</param>
    public static TApi For<TApi>(HttpClient http) => RestService.For<TApi>(http);
}
