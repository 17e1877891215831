using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Modal.Api.Authentication;

namespace Modal.Api.Endpoints;

/// <summary>
/// Direct access to Storage for the caller's workspace: where Storage is, and a credential it accepts until
/// <see cref="ExpiresAt"/>. Clients send Dict, Queue and Volume requests there with the credential in
/// <c>Modal-Storage-Credential</c> (one HTTP hop instead of two), and ask again before it expires.
/// </summary>
public sealed record StorageAccess(Uri StorageUrl, string Credential, DateTimeOffset ExpiresAt);

public static class StorageAccessEndpoints
{
    public static RouteGroupBuilder MapStorageAccessEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapPost("/storage/credentials", IssueStorageCredential).WithName("IssueStorageCredential").WithTags("Storage")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return v1;
    }

    /// <summary>A credential for the caller's workspace; 404 when this install offers no direct path (clients then go through the Api).</summary>
    public static Results<Ok<StorageAccess>, ProblemHttpResult> IssueStorageCredential(
        ClaimsPrincipal caller, StorageCredentials credentials, IOptions<ApiOptions> options)
    {
        if (!credentials.Enabled || options.Value.StoragePublicUrl is not { } storageUrl)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No direct storage access",
                detail: "This install reaches Storage only through the Api (/v1/dicts, /v1/queues, /v1/volumes).");
        }
        var (credential, expiresAt) = credentials.Issue(caller.WorkspaceId());
        return TypedResults.Ok(new StorageAccess(storageUrl, credential, expiresAt));
    }
}
