using System.Security.Cryptography;
using System.Text;
using Modal.Api.Contracts;
using Modal.GpuRunner.Bundles;

namespace Modal.GpuRunner.Calls;

/// <summary>
/// Payloads over 2 MiB travel as content-addressed blobs in Storage, not inline on the bus: arguments are fetched
/// before an input runs, results are stored and passed on by hash.
/// </summary>
public sealed class PayloadBlobs(IHttpClientFactory httpClients)
{
    public async Task<string> ReadAsync(string hash, CancellationToken cancellationToken)
    {
        var http = httpClients.CreateClient(BundleCache.StorageClientName);
        return await http.GetStringAsync(new Uri($"/v1/blobs/{hash}", UriKind.Relative), cancellationToken);
    }

    /// <summary>Stores <paramref name="json"/> and returns its hash (Storage verifies it).</summary>
    public async Task<string> WriteAsync(string json, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var http = httpClients.CreateClient(BundleCache.StorageClientName);
        using var content = new ByteArrayContent(bytes);
        using var response = await http.PutAsync(new Uri($"/v1/blobs/{hash}", UriKind.Relative), content, cancellationToken);
        response.EnsureSuccessStatusCode();
        return hash;
    }

    public static bool FitsInline(string json) => json.Length <= ApiLimits.MaxInlinePayloadBytes / 3 || Encoding.UTF8.GetByteCount(json) <= ApiLimits.MaxInlinePayloadBytes;
}
