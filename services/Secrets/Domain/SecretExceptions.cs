namespace Modal.Secrets.Domain;

/// <summary>The workspace has no secret of that name (answered with 404).</summary>
public sealed class SecretNotFoundException(string name) : Exception($"Secret '{name}' does not exist in this workspace.")
{
    public string Name { get; } = name;
}

/// <summary>A secret of that name exists and the request did not allow an existing one (answered with 409).</summary>
public sealed class SecretExistsException(string name) : Exception($"Secret '{name}' already exists.");

/// <summary>A secret lacks keys a function requires (answered with 422); names the keys, never a value.</summary>
public sealed class MissingSecretKeysException(string name, IReadOnlyList<string> missing)
    : Exception($"Secret '{name}' is missing required key{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing.Select(k => $"'{k}'"))}.");

/// <summary>The request breaks a rule the client can fix (answered with 400).</summary>
public sealed class InvalidSecretRequestException(string message) : Exception(message);
