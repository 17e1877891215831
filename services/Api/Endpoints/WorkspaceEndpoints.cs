using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Modal.Api.Authentication;
using Modal.Api.Contracts.Workspaces;
using Modal.Api.Infrastructure;

namespace Modal.Api.Endpoints;

public static class WorkspaceEndpoints
{
    public static RouteGroupBuilder MapWorkspaceEndpoints(this RouteGroupBuilder v1)
    {
        var workspaces = v1.MapGroup("/workspaces").WithTags("Workspaces");
        workspaces.MapGet("/", ListWorkspacesAsync).WithName("ListWorkspaces");
        workspaces.MapGet("/{name}", GetWorkspaceAsync).WithName("GetWorkspace");
        return v1;
    }

    /// <summary>The workspaces the caller's token can see: its own.</summary>
    public static async Task<Ok<List<Workspace>>> ListWorkspacesAsync(
        ClaimsPrincipal caller, ApiDbContext db, CancellationToken cancellationToken)
    {
        var workspaceId = caller.WorkspaceId();
        var visible = await db.Workspaces.AsNoTracking()
            .Where(w => w.Id == workspaceId)
            .Select(w => new Workspace(w.Id, w.Name, w.CreatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(visible);
    }

    public static async Task<Results<Ok<Workspace>, ProblemHttpResult>> GetWorkspaceAsync(
        string name, ClaimsPrincipal caller, ApiDbContext db, CancellationToken cancellationToken)
    {
        var workspaceId = caller.WorkspaceId();
        // Another workspace's name answers exactly like a missing one, so names don't leak across workspaces.
        var workspace = await db.Workspaces.AsNoTracking()
            .Where(w => w.Name == name && w.Id == workspaceId)
            .Select(w => new Workspace(w.Id, w.Name, w.CreatedAt))
            .SingleOrDefaultAsync(cancellationToken);
        return workspace is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Workspace not found",
                detail: $"No workspace named '{name}' is visible to this token. List them with GET /v1/workspaces.")
            : TypedResults.Ok(workspace);
    }
}
