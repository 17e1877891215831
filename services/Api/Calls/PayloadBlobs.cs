namespace Modal.Api.Calls;

/// <summary>
/// Payloads over 2 MiB are not inlined in calls: clients store them in Storage as content-addressed blobs (through
/// <c>/v1/blobs</c>) and pass the hash. The Api only checks that the caller's workspace holds such a blob and how large it
/// is, asking Storage with a credential of that workspace (another workspace's blob is not found).
/// </summary>
public sealed class PayloadBlobs(IHttpClientFactory httpClients, StorageCredentials credentials)
{
    public const string StorageClientName = "storage";

    /// <summary>Whether <paramref name="hash"/> looks like a blob id (SHA-256, lowercase hex).</summary>
    public static bool IsBlobId(string hash) => hash.Length == 64 && hash.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>The blob's size in bytes; null when the workspace holds no such blob.</summary>
    public async Task<long?> SizeAsync(Guid workspaceId, string hash, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri($"/v1/blobs/{hash}", UriKind.Relative));
        credentials.Attach(request, workspaceId);
        using var response = await httpClients.CreateClient(StorageClientName).SendAsync(request, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return response.Content.Headers.ContentLength ?? throw new InvalidOperationException($"Storage did not say how large blob {hash} is.");
    }

    /// <summary>The blob's content, streamed from Storage (the caller disposes the response); null when the workspace holds no such blob.</summary>
    public async Task<HttpResponseMessage?> OpenAsync(Guid workspaceId, string hash, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v1/blobs/{hash}", UriKind.Relative));
        credentials.Attach(request, workspaceId);
        var response = await httpClients.CreateClient(StorageClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            response.Dispose();
            return null;
        }
        response.EnsureSuccessStatusCode();
        return response;
    }
}
