using Modal.Api.Contracts.Images;
using Refit;

namespace Modal.Rest;

/// <summary>Low-level REST client for <c>/v1/images</c>; usable on its own from any .NET application.</summary>
public interface IImagesApi
{
    /// <summary>
    /// Gets an image of the workspace built: its outcome when every step was built before, else the id of the build
    /// that now runs (started by this request, or by another deploy of the same image).
    /// </summary>
    /// <param name="request">The image, with its keys (<see cref="Image.ToManifest"/>); its local files must be uploaded blobs.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/images")]
    Task<ImageBuildStatus> BuildAsync([Body] BuildImageRequest request, CancellationToken cancellationToken = default);

    /// <summary>A build's log entries after <paramref name="after"/>: lines in order, last its outcome.</summary>
    /// <param name="buildId">The build.</param>
    /// <param name="after">The <see cref="ImageBuildPage.Next"/> of the previous page; null for the start.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/images/builds/{buildId}")]
    Task<ImageBuildPage> ReadBuildLogAsync(Guid buildId, string? after = null, CancellationToken cancellationToken = default);

    /// <summary>The workspace's images, most recently used first.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/images")]
    Task<IReadOnlyList<ImageInfo>> ListAsync(CancellationToken cancellationToken = default);
}
