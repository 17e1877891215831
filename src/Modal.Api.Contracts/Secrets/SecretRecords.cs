namespace Modal.Api.Contracts.Secrets;

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
public sealed record CreateSecretRequest(string Name, IReadOnlyDictionary<string, string>? Values = null, bool AllowExisting = false);

/// <summary>Body of a replace or a merge.</summary>
/// <param name="Values">Key → value.</param>
public sealed record SecretValuesRequest(IReadOnlyDictionary<string, string>? Values = null);

/// <summary>
/// Body of <c>POST /internal/v1/secrets/resolve</c>, a runner's request for the values of a function's secrets (with
/// <see cref="ApiHeaders.RunnerKey"/>; never forwarded by the Api).
/// </summary>
/// <param name="WorkspaceId">Whose secrets.</param>
/// <param name="Secrets">Which, with the keys each must have.</param>
public sealed record ResolveSecretsRequest(Guid WorkspaceId, IReadOnlyList<SecretRequirement>? Secrets = null);

/// <summary>A secret a function uses, with the keys it must have.</summary>
/// <param name="Name">The secret's name.</param>
/// <param name="RequiredKeys">Keys it must have; null or empty for none.</param>
public sealed record SecretRequirement(string Name, IReadOnlyList<string>? RequiredKeys = null);

/// <summary>The values of resolved secrets merged into one environment (a later secret wins on a shared key).</summary>
/// <param name="Environment">Variable → value.</param>
public sealed record ResolvedSecrets(IReadOnlyDictionary<string, string> Environment);
