using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Modal.Api.Authentication;
using Modal.Api.Contracts.Storage;

namespace Modal.Api.Endpoints;

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
