namespace Modal.Api.Contracts.Objects;

/// <summary>A Dict, Queue or Volume as the platform lists it.</summary>
/// <param name="Name">Its name, unique per workspace and kind (1-64 letters, digits, '-', '_' or '.').</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="Ephemeral">True for an object that lives only while its creator keeps it alive (by heartbeats).</param>
public sealed record StorageObjectInfo(string Name, DateTimeOffset CreatedAt, bool Ephemeral);

/// <summary>A length.</summary>
/// <param name="Length">A Dict's entry count (capped at 100,000, as Modal's) or a Queue's item count.</param>
public sealed record ObjectLength(long Length);
