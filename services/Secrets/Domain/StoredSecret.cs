namespace Modal.Secrets.Domain;

/// <summary>
/// A named set of key/value pairs belonging to one workspace. The values are kept only as ciphertext; the key names
/// are kept in clear so secrets can be listed (and checked for required keys) without decrypting anything. The
/// workspace is the Api's, so it is referenced by id, never joined.
/// </summary>
public sealed class StoredSecret
{
    public Guid Id { get; init; }

    public Guid WorkspaceId { get; init; }

    public required string Name { get; init; }

    /// <summary>The values as a JSON object, sealed with AES-256-GCM: nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes).</summary>
    public required byte[] Ciphertext { get; set; }

    /// <summary>Which key of the ring sealed <see cref="Ciphertext"/>.</summary>
    public required string KeyId { get; set; }

    /// <summary>The keys of the values, sorted (never the values).</summary>
    public required List<string> KeyNames { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}
