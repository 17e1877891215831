using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Modal.Api.Contracts;
using Modal.Storage.Blobs;
using Modal.Storage.Objects;

namespace Modal.Storage.Endpoints;

/// <summary>
/// <c>/v1/blobs</c>: content-addressed blobs (bundle files, large call payloads, Volume file contents), each stored once
/// however many workspaces upload it. Every route acts for the workspace of the request's credential
/// (<see cref="StorageObjectFilter"/>: none is 401) and sees only the blobs that workspace holds a reference to
/// (<see cref="BlobReferences"/>): another workspace's blob is "not found", whether or not its hash is known.
/// </summary>
public static class BlobEndpoints
{
    public static IEndpointRouteBuilder MapBlobEndpoints(this IEndpointRouteBuilder routes)
    {
        var blobs = routes.MapGroup("/v1/blobs").WithTags("Blobs").AddEndpointFilter<StorageObjectFilter>();
        // The one route whose body may pass the service's limit: bundles hold files of hundreds of MB (libtorch), streamed to a spool file.
        blobs.MapPut("/{hash}", PutBlobAsync).WithName("PutBlob").DisableAntiforgery()
            .WithMetadata(new RequestSizeLimitAttribute(ApiLimits.MaxBlobBytes)).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        blobs.MapGet("/{hash}", GetBlobAsync).WithName("GetBlob");
        blobs.MapMethods("/{hash}", [HttpMethods.Head], HeadBlobAsync).WithName("HeadBlob");
        blobs.MapPost("/missing", MissingBlobsAsync).WithName("MissingBlobs");
        return routes;
    }

    /// <summary>
    /// Stores the request body as the blob named by its SHA-256 (lowercase hex) and gives the workspace a reference to
    /// it. Idempotent; a blob another workspace stored still has to be sent whole, so only its holders read it.
    /// </summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> PutBlobAsync(
        string hash, HttpRequest request, WorkspaceScope workspace, BlobStore blobs, BlobReferences references, CancellationToken cancellationToken)
    {
        if (!BlobStore.IsValidHash(hash))
        {
            return InvalidHash(hash);
        }
        if (await references.HoldsAsync(workspace.WorkspaceId, hash, cancellationToken))
        {
            return TypedResults.NoContent();
        }
        if (!await blobs.PutAsync(hash, request.Body, request.ContentLength, proveContent: true, cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Content does not match its hash",
                detail: $"The uploaded bytes do not hash to '{hash}' (SHA-256, lowercase hex); nothing was stored.");
        }
        await references.AddAsync(workspace.WorkspaceId, hash, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> GetBlobAsync(
        string hash, HttpRequest request, HttpResponse response, WorkspaceScope workspace, BlobStore blobs, BlobReferences references,
        CancellationToken cancellationToken)
    {
        if (!BlobStore.IsValidHash(hash))
        {
            return InvalidHash(hash);
        }
        var size = await references.HoldsAsync(workspace.WorkspaceId, hash, cancellationToken) ? await blobs.SizeAsync(hash, cancellationToken) : null;
        if (size is null)
        {
            return BlobNotFound(hash);
        }
        if (blobs.ShouldRedirect(request, size.Value))
        {
            response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            response.Headers.Location = (await blobs.PresignedGetAsync(hash)).AbsoluteUri;
            return TypedResults.Empty;
        }
        response.ContentType = "application/octet-stream";
        response.ContentLength = size;
        response.Headers.ETag = $"\"{hash}\"";
        await blobs.CopyToAsync(hash, response.Body, cancellationToken);
        return TypedResults.Empty;
    }

    /// <summary>Whether the workspace holds a blob, with its size as Content-Length (the Api checks call payload sizes this way).</summary>
    public static async Task<Results<Ok, NotFound, ProblemHttpResult>> HeadBlobAsync(
        string hash, HttpResponse response, WorkspaceScope workspace, BlobStore blobs, BlobReferences references, CancellationToken cancellationToken)
    {
        if (!BlobStore.IsValidHash(hash))
        {
            return InvalidHash(hash);
        }
        if (!await references.HoldsAsync(workspace.WorkspaceId, hash, cancellationToken) || await blobs.SizeAsync(hash, cancellationToken) is not { } size)
        {
            return TypedResults.NotFound();
        }
        response.ContentLength = size;
        return TypedResults.Ok();
    }

    /// <summary>
    /// Which of the given hashes the workspace does not hold yet: what an upload still has to send. Per workspace, so it
    /// says nothing about what other workspaces stored.
    /// </summary>
    public static async Task<Results<Ok<IReadOnlyList<string>>, ProblemHttpResult>> MissingBlobsAsync(
        string[] hashes, WorkspaceScope workspace, BlobReferences references, CancellationToken cancellationToken)
    {
        if (hashes.FirstOrDefault(h => !BlobStore.IsValidHash(h)) is { } invalid)
        {
            return InvalidHash(invalid);
        }
        return TypedResults.Ok(await references.MissingAsync(workspace.WorkspaceId, hashes, cancellationToken));
    }

    private static ProblemHttpResult InvalidHash(string hash) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid blob name",
            detail: $"'{hash}' is not a SHA-256 in lowercase hex (64 characters 0-9a-f).");

    private static ProblemHttpResult BlobNotFound(string hash) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Blob not found",
            detail: $"No blob '{hash}' is stored for this workspace (upload its content with PUT /v1/blobs/{hash}).");
}
