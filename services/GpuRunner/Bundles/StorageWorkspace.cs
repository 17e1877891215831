namespace Modal.GpuRunner.Bundles;

/// <summary>
/// The runner's requests to Storage act for one workspace each (the app's whose bundle, payload or Volume they move):
/// the caller names it on the request (<see cref="For"/>) and <see cref="StorageCredentialHandler"/> signs a Storage
/// credential for it with the install's Storage key, which the runner holds and its containers never see. Storage serves
/// a workspace only the blobs that workspace uploaded, so a bundle or payload hash of another workspace is not found.
/// </summary>
public static class StorageWorkspace
{
    private static readonly HttpRequestOptionsKey<Guid> Key = new("Modal.StorageWorkspace");

    /// <summary>A request to Storage on behalf of <paramref name="workspaceId"/>.</summary>
    public static HttpRequestMessage For(Guid workspaceId, HttpMethod method, string relativeUri)
    {
        var request = new HttpRequestMessage(method, new Uri(relativeUri, UriKind.Relative));
        Name(request, workspaceId);
        return request;
    }

    /// <summary>Names <paramref name="workspaceId"/> on a request to Storage.</summary>
    public static void Name(HttpRequestMessage request, Guid workspaceId)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Options.Set(Key, workspaceId);
    }

    /// <summary>Signs each request to Storage for the workspace it names; a request naming none is a bug and fails.</summary>
    public sealed class StorageCredentialHandler(StorageCredentials credentials) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (!request.Options.TryGetValue(Key, out var workspaceId))
            {
                throw new InvalidOperationException($"A runner request to Storage ({request.RequestUri}) names no workspace: build it with {nameof(StorageWorkspace)}.{nameof(For)}.");
            }
            credentials.Attach(request, workspaceId);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
