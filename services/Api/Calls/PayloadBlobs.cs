namespace Modal.Api.Calls;

/// <summary>
/// Payloads over 2 MiB are not inlined in calls: clients store them in Storage as content-addressed blobs (through
/// <c>/v1/blobs</c>) and pass the hash. The Api only checks that such a blob exists and how large it is.
/// </summary>
public sealed class PayloadBlobs(IHttpClientFactory httpClients)
{
    public const string StorageClientName = "storage";

    /// <summary>Whether <paramref name="hash"/> looks like a blob id (SHA-256, lowercase hex).</summary>
    public static bool IsBlobId(string hash) => hash.Length == 64 && hash.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>The blob's size in bytes; null when Storage does not have it.</summary>
    public async Task<long?> SizeAsync(string hash, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri($"/v1/blobs/{hash}", UriKind.Relative));
        using var response = await httpClients.CreateClient(StorageClientName).SendAsync(request, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return response.Content.Headers.ContentLength ?? throw new InvalidOperationException($"Storage did not say how large blob {hash} is.");
    }
}
