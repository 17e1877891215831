using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Modal.Api.Authentication;
using Modal.Api.Contracts.Images;
using Modal.Api.Images;

namespace Modal.Api.Endpoints;

/// <summary>Container images: building one (what a deploy does first), following a build's log, listing the workspace's.</summary>
public static class ImageEndpoints
{
    public static RouteGroupBuilder MapImageEndpoints(this RouteGroupBuilder v1)
    {
        var images = v1.MapGroup("/images").WithTags("Images");
        images.MapPost("", BuildImageAsync).WithName("BuildImage").RequireAuthorization(ApiPolicies.ManageApps);
        images.MapGet("/builds/{buildId:guid}", ReadBuildLogAsync).WithName("ReadImageBuildLog");
        images.MapGet("", ListImagesAsync).WithName("ListImages");
        return v1;
    }

    /// <summary>
    /// Gets the image built: answers with its outcome when every step was built before; otherwise starts a build on a
    /// runner of the steps not built yet (or joins the one another deploy started for this image) and answers with the
    /// build's id, whose log <c>GET /v1/images/builds/{buildId}</c> serves as it comes. 400 for a manifest whose keys do
    /// not match its definition.
    /// </summary>
    public static async Task<Results<Ok<ImageBuildStatus>, ValidationProblem>> BuildImageAsync(
        BuildImageRequest request, ClaimsPrincipal caller, ImageBuilds builds, CancellationToken cancellationToken)
    {
        if (ImageKeys.Error(request?.Image) is { } error)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["image"] = [error] }, title: "The image cannot be built");
        }
        return TypedResults.Ok(await builds.StartAsync(caller.WorkspaceId(), request!.Image, cancellationToken));
    }

    /// <summary>
    /// The entries of a build's log after <paramref name="after"/> (all when omitted): lines in order, and last the
    /// outcome. Empty while nothing new came; a build of another workspace reads as empty.
    /// </summary>
    public static async Task<Ok<ImageBuildPage>> ReadBuildLogAsync(Guid buildId, ClaimsPrincipal caller, ImageStore store, string? after = null)
    {
        var entries = await store.ReadLogAsync(caller.WorkspaceId(), buildId, after ?? "0-0");
        return TypedResults.Ok(new ImageBuildPage([.. entries.Select(e => e.Event)], entries.Count > 0 ? entries[^1].Id : after ?? "0-0"));
    }

    /// <summary>The workspace's images that deploys asked for, most recently used first: id, definition, size, last use.</summary>
    public static async Task<Ok<IReadOnlyList<ImageInfo>>> ListImagesAsync(ClaimsPrincipal caller, ImageStore store) =>
        TypedResults.Ok(await store.ListImagesAsync(caller.WorkspaceId()));
}
