using Modal.Api.Contracts.Images;
using Refit;

namespace Modal.Rest;

/// <summary>
/// Low-level REST client for <c>/v1/images</c>; usable on its own from any .NET application. Builds stream their log
/// (<see cref="Images.ImageBuilds"/> reads that stream), so only the listing is here.
/// </summary>
public interface IImagesApi
{
    /// <summary>The workspace's images, most recently used first.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/images")]
    Task<IReadOnlyList<ImageInfo>> ListAsync(CancellationToken cancellationToken = default);
}
