using Refit;

namespace Modal.Rest;

/// <summary>Where Storage is and a credential it accepts for the caller's workspace until <see cref="ExpiresAt"/>.</summary>
/// <param name="StorageUrl">Storage's base address, as clients reach it.</param>
/// <param name="Credential">Sent in <c>Modal-Storage-Credential</c> with every request to Storage.</param>
/// <param name="ExpiresAt">When Storage stops accepting it.</param>
public sealed record StorageAccess(Uri StorageUrl, string Credential, DateTimeOffset ExpiresAt);

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
