using System.Security.Cryptography;
using System.Text;
using Modal.Api.Contracts;
using Modal.GpuRunner.Bundles;

namespace Modal.GpuRunner.Calls;

/// <summary>
/// Payloads over 2 MiB travel as content-addressed blobs in Storage, not inline on the bus: arguments are fetched
/// before an input runs, results are stored and passed on by hash. Both as the call's workspace: only its blobs are read,
/// and a result stored is the caller's to read.
/// </summary>
public sealed class PayloadBlobs(IHttpClientFactory httpClients)
{
    public async Task<string> ReadAsync(Guid workspaceId, string hash, CancellationToken cancellationToken)
    {
        var http = httpClients.CreateClient(BundleCache.StorageClientName);
        using var request = StorageWorkspace.For(workspaceId, HttpMethod.Get, $"/v1/blobs/{hash}");
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <summary>Stores <paramref name="json"/> and returns its hash (Storage verifies it).</summary>
    public async Task<string> WriteAsync(Guid workspaceId, string json, CancellationToken cancellationToken)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var http = httpClients.CreateClient(BundleCache.StorageClientName);
        using var request = StorageWorkspace.For(workspaceId, HttpMethod.Put, $"/v1/blobs/{hash}");
        request.Content = new ByteArrayContent(bytes);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return hash;
    }

    public static bool FitsInline(string json) => json.Length <= ApiLimits.MaxInlinePayloadBytes / 3 || Encoding.UTF8.GetByteCount(json) <= ApiLimits.MaxInlinePayloadBytes;
}
