namespace Modal.Api.Contracts.Storage;

/// <summary>
/// Direct access to Storage for the caller's workspace (<c>POST /v1/storage/credentials</c>): Dict, Queue and Volume
/// requests go there with the credential in <see cref="ApiHeaders.StorageCredential"/> (one HTTP hop instead of two
/// through the Api); clients ask again before it expires.
/// </summary>
/// <param name="StorageUrl">Storage's base address, as clients reach it.</param>
/// <param name="Credential">Sent in <see cref="ApiHeaders.StorageCredential"/> with every request to Storage.</param>
/// <param name="ExpiresAt">When Storage stops accepting it.</param>
public sealed record StorageAccess(Uri StorageUrl, string Credential, DateTimeOffset ExpiresAt);
