using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Modal.Api.Contracts.Volumes;

namespace Modal.Volumes;

/// <summary>
/// The Volume and blob requests of the sync, over a plain <see cref="HttpClient"/>: the runner takes this project
/// without the SDK, so without Refit. An unsuccessful answer throws what <c>translate</c> makes of its status and body
/// (the SDK passes the one that gives its typed exceptions), else an <see cref="HttpRequestException"/> with the status.
/// </summary>
internal sealed class VolumeHttp
{
    private readonly HttpClient _http;
    private readonly Func<HttpStatusCode, string, Exception?>? _translate;

    public VolumeHttp(HttpClient http, Func<HttpStatusCode, string, Exception?>? translate = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _translate = translate;
    }

    /// <summary>The latest version with every file.</summary>
    public async Task<VolumeManifest> GetManifestAsync(string volumeName, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(VolumeRoute(volumeName, "manifest"), cancellationToken).ConfigureAwait(false);
        return await ReadAsync<VolumeManifest>(response, cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException($"The platform answered no manifest for Volume '{volumeName}'.");
    }

    /// <summary>Applies puts and deletes to the latest version in one step.</summary>
    public async Task<VolumeCommitResult> CommitAsync(string volumeName, VolumeCommitRequest commit, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync(VolumeRoute(volumeName, "commit"), commit, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<VolumeCommitResult>(response, cancellationToken).ConfigureAwait(false)
            ?? throw new JsonException($"The platform answered no version for the commit to Volume '{volumeName}'.");
    }

    /// <summary>Which of the blobs are not stored.</summary>
    public async Task<IReadOnlyList<string>> MissingBlobsAsync(IEnumerable<string> sha256s, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync(new Uri("/v1/blobs/missing", UriKind.Relative), sha256s, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<string[]>(response, cancellationToken).ConfigureAwait(false) ?? [];
    }

    /// <summary>Stores <paramref name="content"/> as blob <paramref name="sha256"/>.</summary>
    public async Task PutBlobAsync(string sha256, HttpContent content, CancellationToken cancellationToken)
    {
        using var response = await _http.PutAsync(BlobRoute(sha256), content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, _translate, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A blob's content, streamed (dispose the answer when done).</summary>
    public async Task<HttpResponseMessage> GetBlobAsync(string sha256, CancellationToken cancellationToken)
    {
        var response = await _http.GetAsync(BlobRoute(sha256), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureSuccessAsync(response, _translate, cancellationToken).ConfigureAwait(false);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Throws for an unsuccessful answer (disposed first): what <paramref name="translate"/> makes of its status and body,
    /// else an <see cref="HttpRequestException"/> with both.
    /// </summary>
    public static async Task EnsureSuccessAsync(
        HttpResponseMessage response, Func<HttpStatusCode, string, Exception?>? translate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var content = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        response.Dispose();
        throw translate?.Invoke(response.StatusCode, content)
            ?? new HttpRequestException($"The platform answered {(int)response.StatusCode}: {content}", null, response.StatusCode);
    }

    private async Task<T?> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await EnsureSuccessAsync(response, _translate, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<T>(cancellationToken).ConfigureAwait(false);
    }

    private static Uri VolumeRoute(string volumeName, string action) =>
        new($"/v1/volumes/{Uri.EscapeDataString(volumeName)}/{action}", UriKind.Relative);

    private static Uri BlobRoute(string sha256) => new($"/v1/blobs/{sha256}", UriKind.Relative);
}
