using System.Security.Cryptography;
using System.Text;
using Modal.GpuRunner.Bundles;

namespace Modal.GpuRunner.Calls;

/// <summary>
/// Payloads over 2 MiB travel as content-addressed blobs in Storage, not inline on the bus: arguments are fetched
/// before an input runs, results are stored and passed on by hash.
/// </summary>
public sealed class PayloadBlobs(IHttpClientFactory httpClients)
{
    /// <summary>Largest payload carried inline in a bus message; larger ones go to Storage.</summary>
    public const int MaxInlineBytes = 2 * 1024 * 1024;

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

    public static bool FitsInline(string json) => json.Length <= MaxInlineBytes / 3 || Encoding.UTF8.GetByteCount(json) <= MaxInlineBytes;
}
