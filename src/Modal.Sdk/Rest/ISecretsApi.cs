using Refit;

namespace Modal.Rest;

/// <summary>A secret as the platform lists it: never its values.</summary>
/// <param name="Name">Its name, unique per workspace (1-64 letters, digits, '-', '_' or '.').</param>
/// <param name="Keys">Its keys (the environment variables it sets), sorted.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When its values last changed.</param>
public sealed record SecretInfo(string Name, IReadOnlyList<string> Keys, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Body of a create.</summary>
/// <param name="Name">The secret's name.</param>
/// <param name="Values">Key → value; keys are environment variable names.</param>
/// <param name="AllowExisting">When a secret of that name exists, answer it unchanged instead of failing with 409.</param>
public sealed record CreateSecretRequest(string Name, IReadOnlyDictionary<string, string> Values, bool AllowExisting = false);

/// <summary>Body of a replace or a merge.</summary>
/// <param name="Values">Key → value.</param>
public sealed record SecretValuesRequest(IReadOnlyDictionary<string, string> Values);

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
