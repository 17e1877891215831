using System.Net.Http.Json;
using Modal.Rest;

namespace Modal.Deployment;

/// <summary>
/// Uploads a bundle to content-addressed blob storage (<c>/v1/blobs</c>): asks which blobs are missing and sends only
/// those, so a redeploy of a large app uploads only the files that changed.
/// </summary>
public static class BundleUploader
{
    /// <summary>Uploads the bundle's missing files and its manifest; returns how many blobs were sent.</summary>
    /// <param name="bundle">The bundle.</param>
    /// <param name="blobs">An HTTP client whose base address serves <c>/v1/blobs</c>.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    public static async Task<int> UploadAsync(Bundle bundle, HttpClient blobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(blobs);
        var wanted = bundle.LocalFiles.Keys.Append(bundle.Id).Distinct().ToArray();
        using var missingResponse = await blobs.PostAsJsonAsync(new Uri("/v1/blobs/missing", UriKind.Relative), wanted, cancellationToken)
            .ConfigureAwait(false);
        missingResponse.EnsureSuccessStatusCode();
        var missing = await missingResponse.Content.ReadFromJsonAsync<string[]>(cancellationToken).ConfigureAwait(false) ?? [];

        // The manifest goes last: once it is stored, every file it names is too.
        foreach (var hash in missing.Where(h => h != bundle.Id))
        {
            await using var file = File.OpenRead(bundle.LocalFiles[hash]);
            await PutAsync(blobs, hash, new StreamContent(file), cancellationToken).ConfigureAwait(false);
        }
        if (missing.Contains(bundle.Id))
        {
            await PutAsync(blobs, bundle.Id, new ByteArrayContent(bundle.ManifestJson), cancellationToken).ConfigureAwait(false);
        }
        return missing.Length;
    }

    /// <summary>Uploads the files (content hash → local path) that blob storage lacks; returns how many were sent.</summary>
    /// <param name="files">The files by their SHA-256.</param>
    /// <param name="blobs">An HTTP client whose base address serves <c>/v1/blobs</c>.</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    public static async Task<int> UploadFilesAsync(IReadOnlyDictionary<string, string> files, HttpClient blobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(blobs);
        using var missingResponse = await blobs.PostAsJsonAsync(new Uri("/v1/blobs/missing", UriKind.Relative), files.Keys.ToArray(), cancellationToken)
            .ConfigureAwait(false);
        missingResponse.EnsureSuccessStatusCode();
        var missing = await missingResponse.Content.ReadFromJsonAsync<string[]>(cancellationToken).ConfigureAwait(false) ?? [];
        foreach (var hash in missing)
        {
            await using var file = File.OpenRead(files[hash]);
            await PutAsync(blobs, hash, new StreamContent(file), cancellationToken).ConfigureAwait(false);
        }
        return missing.Length;
    }

    private static async Task PutAsync(HttpClient blobs, string hash, HttpContent content, CancellationToken cancellationToken)
    {
        using (content)
        using (var response = await blobs.PutAsync(new Uri($"/v1/blobs/{hash}", UriKind.Relative), content, cancellationToken).ConfigureAwait(false))
        {
            response.EnsureSuccessStatusCode();
        }
    }
}
