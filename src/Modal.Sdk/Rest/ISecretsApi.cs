using Modal.Api.Contracts.Secrets;
using Refit;

namespace Modal.Rest;

/// <summary>
/// Low-level REST client for <c>/v1/secrets</c>; usable on its own from any .NET application. Values are write-only:
/// no route returns them (only a runner starting a container reads them, inside the platform). Errors are problem
/// details: 404 for an unknown secret, 409 for an existing one on create, 400 for an invalid name, key or value.
/// </summary>
public interface ISecretsApi
{
    /// <summary>Lists the workspace's secrets by name, with their key names.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/secrets")]
    Task<IReadOnlyList<SecretInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Creates a secret (201), or with <see cref="CreateSecretRequest.AllowExisting"/> answers an existing one unchanged (200).</summary>
    /// <param name="request">Name, values and whether an existing secret is fine.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/secrets")]
    Task<SecretInfo> CreateAsync([Body] CreateSecretRequest request, CancellationToken cancellationToken = default);

    /// <summary>A secret's name and key names; 404 when there is none of that name.</summary>
    /// <param name="name">The secret's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/secrets/{name}")]
    Task<SecretInfo> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Sets a secret to exactly these values, creating it when missing.</summary>
    /// <param name="name">The secret's name.</param>
    /// <param name="request">The values.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Put("/v1/secrets/{name}")]
    Task<SecretInfo> ReplaceAsync(string name, [Body] SecretValuesRequest request, CancellationToken cancellationToken = default);

    /// <summary>Merges values into a secret (as Python's <c>dict.update</c>): given keys are set, the others kept.</summary>
    /// <param name="name">The secret's name.</param>
    /// <param name="request">The values to set.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Patch("/v1/secrets/{name}")]
    Task<SecretInfo> UpdateAsync(string name, [Body] SecretValuesRequest request, CancellationToken cancellationToken = default);

    /// <summary>Deletes a secret.</summary>
    /// <param name="name">The secret's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/secrets/{name}")]
    Task DeleteAsync(string name, CancellationToken cancellationToken = default);
}
