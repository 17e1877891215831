using Microsoft.AspNetCore.Http.HttpResults;
using Modal.Storage.Blobs;

namespace Modal.Storage.Endpoints;

public static class BlobEndpoints
{
    public static IEndpointRouteBuilder MapBlobEndpoints(this IEndpointRouteBuilder routes)
    {
        var blobs = routes.MapGroup("/v1/blobs").WithTags("Blobs");
        blobs.MapPut("/{hash}", PutBlobAsync).WithName("PutBlob").DisableAntiforgery();
        blobs.MapGet("/{hash}", GetBlobAsync).WithName("GetBlob");
        blobs.MapMethods("/{hash}", [HttpMethods.Head], HeadBlobAsync).WithName("HeadBlob");
        blobs.MapPost("/missing", MissingBlobsAsync).WithName("MissingBlobs");
        return routes;
    }

    /// <summary>Stores the request body as the blob named by its SHA-256 (lowercase hex). Idempotent.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> PutBlobAsync(
        string hash, HttpRequest request, BlobStore blobs, CancellationToken cancellationToken)
    {
        if (!BlobStore.IsValidHash(hash))
        {
            return InvalidHash(hash);
        }
        return await blobs.PutAsync(hash, request.Body, request.ContentLength, cancellationToken)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Content does not match its hash",
                detail: $"The uploaded bytes do not hash to '{hash}' (SHA-256, lowercase hex); nothing was stored.");
    }

    public static async Task<Results<EmptyHttpResult, ProblemHttpResult>> GetBlobAsync(
        string hash, HttpRequest request, HttpResponse response, BlobStore blobs, CancellationToken cancellationToken)
    {
        if (!BlobStore.IsValidHash(hash))
        {
            return InvalidHash(hash);
        }
        var size = await blobs.SizeAsync(hash, cancellationToken);
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

    /// <summary>Whether a blob is stored, with its size as Content-Length (the Api checks call payload sizes this way).</summary>
    public static async Task<Results<Ok, NotFound, ProblemHttpResult>> HeadBlobAsync(
        string hash, BlobStore blobs, HttpResponse response, CancellationToken cancellationToken)
    {
        if (!BlobStore.IsValidHash(hash))
        {
            return InvalidHash(hash);
        }
        if (await blobs.SizeAsync(hash, cancellationToken) is not { } size)
        {
            return TypedResults.NotFound();
        }
        response.ContentLength = size;
        return TypedResults.Ok();
    }

    /// <summary>Which of the given hashes are not stored yet: what an upload still has to send.</summary>
    public static async Task<Results<Ok<IReadOnlyList<string>>, ProblemHttpResult>> MissingBlobsAsync(
        string[] hashes, BlobStore blobs, CancellationToken cancellationToken)
    {
        if (hashes.FirstOrDefault(h => !BlobStore.IsValidHash(h)) is { } invalid)
        {
            return InvalidHash(invalid);
        }
        return TypedResults.Ok(await blobs.MissingAsync(hashes, cancellationToken));
    }

    private static ProblemHttpResult InvalidHash(string hash) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid blob name",
            detail: $"'{hash}' is not a SHA-256 in lowercase hex (64 characters 0-9a-f).");

    private static ProblemHttpResult BlobNotFound(string hash) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Blob not found", detail: $"No blob '{hash}' is stored.");
}
