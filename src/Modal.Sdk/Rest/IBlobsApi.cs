using Refit;

namespace Modal.Rest;

/// <summary>
/// Low-level REST client for content-addressed blobs (<c>/v1/blobs</c>): app bundle files and call payloads over
/// 2 MiB. A blob's id is the SHA-256 (lowercase hex) of its bytes; the server checks it on upload.
/// </summary>
public interface IBlobsApi
{
    /// <summary>Which of <paramref name="hashes"/> are not stored yet.</summary>
    /// <param name="hashes">Blob ids.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/blobs/missing")]
    Task<string[]> FindMissingAsync([Body] IReadOnlyList<string> hashes, CancellationToken cancellationToken = default);

    /// <summary>Stores a blob under its SHA-256.</summary>
    /// <param name="hash">SHA-256 of the content.</param>
    /// <param name="content">The bytes.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Put("/v1/blobs/{hash}")]
    Task PutAsync(string hash, [Body] HttpContent content, CancellationToken cancellationToken = default);

    /// <summary>Reads a blob.</summary>
    /// <param name="hash">The blob id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/blobs/{hash}")]
    Task<Stream> GetAsync(string hash, CancellationToken cancellationToken = default);
}
