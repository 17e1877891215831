using Modal.Api.Contracts.Storage;
using Refit;

namespace Modal.Rest;

/// <summary>
/// <c>/v1/storage</c>: direct access to Storage. With it, Dict, Queue and Volume requests go to Storage in one hop instead
/// of through the Api; <see cref="ModalClient"/> uses it by itself when the Api offers it.
/// </summary>
public interface IStorageAccessApi
{
    /// <summary>A credential for the token's workspace. 404 when the install offers no direct path.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/storage/credentials")]
    Task<StorageAccess> IssueCredentialAsync(CancellationToken cancellationToken = default);
}
