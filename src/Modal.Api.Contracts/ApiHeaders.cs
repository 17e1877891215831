namespace Modal.Api.Contracts;

/// <summary>HTTP header names of the platform's REST API.</summary>
public static class ApiHeaders
{
    /// <summary>
    /// The workspace a request acts for, on requests between platform services: the Api sets it from the caller's token
    /// on what it forwards to Storage and Secrets (dropping any a client sent), and runners set it toward Storage. The
    /// services behind the Api trust it because clients cannot reach them directly (Storage with a credential key
    /// trusts <see cref="StorageCredential"/> instead, the Secrets service with one <see cref="SecretsCredential"/>).
    /// </summary>
    public const string WorkspaceId = "Modal-Workspace-Id";

    /// <summary>A workspace-scoped credential for Storage (<c>POST /v1/storage/credentials</c>), sent with every direct request to Storage.</summary>
    public const string StorageCredential = "Modal-Storage-Credential";

    /// <summary>
    /// The workspace credential the Api signs onto each request it forwards to the Secrets service; never handed to
    /// clients. The Secrets service with a credential key trusts only this, not <see cref="WorkspaceId"/>.
    /// </summary>
    public const string SecretsCredential = "Modal-Secrets-Credential";

    /// <summary>
    /// With the value <see cref="AcceptRedirectPresigned"/>, a client says it follows a 307 to a presigned S3 address for
    /// a large blob read; without it Storage streams the blob itself.
    /// </summary>
    public const string AcceptRedirect = "Modal-Accept-Redirect";

    /// <summary>The value of <see cref="AcceptRedirect"/> that accepts a presigned S3 address.</summary>
    public const string AcceptRedirectPresigned = "presigned";

    /// <summary>A token's id, for clients that cannot send <c>Authorization: Bearer {id}:{secret}</c>.</summary>
    public const string TokenId = "Modal-Token-Id";

    /// <summary>A token's secret, sent with <see cref="TokenId"/>.</summary>
    public const string TokenSecret = "Modal-Token-Secret";

    /// <summary>The runner key, with which a runner reads secret values from the Secrets service's internal routes.</summary>
    public const string RunnerKey = "Modal-Runner-Key";
}
