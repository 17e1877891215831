using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Modal.Api.Authentication;
using Modal.Api.Contracts.Images;
using Modal.Api.Images;

namespace Modal.Api.Endpoints;

/// <summary>Container images: building one (what a deploy does first) and listing the workspace's.</summary>
public static class ImageEndpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static RouteGroupBuilder MapImageEndpoints(this RouteGroupBuilder v1)
    {
        var images = v1.MapGroup("/images").WithTags("Images");
        images.MapPost("", BuildImageAsync).WithName("BuildImage").RequireAuthorization(ApiPolicies.ManageApps);
        images.MapGet("", ListImagesAsync).WithName("ListImages");
        return v1;
    }

    /// <summary>
    /// Builds the steps of the image that are not built yet, on a runner, and streams the build as newline-delimited
    /// JSON (<see cref="ImageBuildEvent"/>): log lines as they come, then the outcome. A step built before is not built
    /// again; an image another deploy is building is followed, not built twice. 400 for a manifest whose keys do not
    /// match its definition.
    /// </summary>
    public static async Task<Results<EmptyHttpResult, ValidationProblem>> BuildImageAsync(
        BuildImageRequest request, ClaimsPrincipal caller, ImageBuilds builds, HttpResponse response, CancellationToken cancellationToken)
    {
        if (ImageKeys.Error(request?.Image) is { } error)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["image"] = [error] }, title: "The image cannot be built");
        }
        response.ContentType = "application/x-ndjson";
        await response.StartAsync(cancellationToken);
        await foreach (var buildEvent in builds.BuildAsync(caller.WorkspaceId(), request!.Image, cancellationToken))
        {
            await response.WriteAsync(JsonSerializer.Serialize(buildEvent, Json) + "\n", cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
        }
        return TypedResults.Empty;
    }

    /// <summary>The workspace's images that deploys asked for, most recently used first: id, definition, size, last use.</summary>
    public static async Task<Ok<IReadOnlyList<ImageInfo>>> ListImagesAsync(ClaimsPrincipal caller, ImageStore store) =>
        TypedResults.Ok(await store.ListImagesAsync(caller.WorkspaceId()));
}
