using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Modal.Api.Authentication;
using Modal.Api.Contracts.Web;
using Modal.Api.Infrastructure;
using Modal.Api.Web;

namespace Modal.Api.Endpoints;

/// <summary>The workspace's web endpoints and their URLs.</summary>
public static class WebEndpointEndpoints
{
    public static RouteGroupBuilder MapWebEndpointEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapGet("/web-endpoints", ListWebEndpointsAsync).WithName("ListWebEndpoints").WithTags("Web endpoints");
        return v1;
    }

    /// <summary>Every web endpoint of the workspace's running apps, with its host-form and path-form URLs.</summary>
    public static async Task<Ok<WebEndpointList>> ListWebEndpointsAsync(
        HttpRequest request, ClaimsPrincipal caller, ApiDbContext db, WebUrls urls, CancellationToken cancellationToken)
    {
        var workspaceId = caller.WorkspaceId();
        var maker = await urls.ForAsync(request, workspaceId, cancellationToken);
        var endpoints = await WebEndpointDirectory.ReadEndpointsAsync(db, workspaceId, maker.Workspace, cancellationToken);
        return TypedResults.Ok(new WebEndpointList(endpoints.OrderBy(e => e.Target.AppName).ThenBy(e => e.FunctionName).Select(maker.Describe).ToList()));
    }
}
