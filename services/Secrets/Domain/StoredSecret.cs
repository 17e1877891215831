namespace Modal.Secrets.Domain;

/// <summary>
/// A named set of key/value pairs belonging to one workspace. The values are kept only as ciphertext;
/// the workspace is the Api's, so it is referenced by id, never joined.
/// </summary>
public sealed class StoredSecret
{
    public Guid Id { get; init; }

    public Guid WorkspaceId { get; init; }

    public required string Name { get; init; }

    /// <summary>The encrypted key/value payload (AES-GCM envelope; see the Secrets issue).</summary>
    public required byte[] Ciphertext { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}
