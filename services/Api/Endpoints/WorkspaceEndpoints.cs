using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Modal.Api.Infrastructure;

namespace Modal.Api.Endpoints;

/// <summary>A workspace as the REST API shows it.</summary>
public sealed record WorkspaceResponse(Guid Id, string Name, DateTimeOffset CreatedAt);

public static class WorkspaceEndpoints
{
    public static IEndpointRouteBuilder MapWorkspaceEndpoints(this IEndpointRouteBuilder routes)
    {
        var workspaces = routes.MapGroup("/v1/workspaces").WithTags("Workspaces");
        workspaces.MapGet("/", ListWorkspacesAsync).WithName("ListWorkspaces");
        workspaces.MapGet("/{name}", GetWorkspaceAsync).WithName("GetWorkspace");
        return routes;
    }

    public static async Task<Ok<List<WorkspaceResponse>>> ListWorkspacesAsync(ApiDbContext db, CancellationToken cancellationToken)
    {
        var all = await db.Workspaces.AsNoTracking()
            .OrderBy(w => w.Name)
            .Select(w => new WorkspaceResponse(w.Id, w.Name, w.CreatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(all);
    }

    public static async Task<Results<Ok<WorkspaceResponse>, ProblemHttpResult>> GetWorkspaceAsync(
        string name, ApiDbContext db, CancellationToken cancellationToken)
    {
        var workspace = await db.Workspaces.AsNoTracking()
            .Where(w => w.Name == name)
            .Select(w => new WorkspaceResponse(w.Id, w.Name, w.CreatedAt))
            .SingleOrDefaultAsync(cancellationToken);
        return workspace is null
            ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Workspace not found",
                detail: $"No workspace is named '{name}'. List the workspaces with GET /v1/workspaces.")
            : TypedResults.Ok(workspace);
    }
}
