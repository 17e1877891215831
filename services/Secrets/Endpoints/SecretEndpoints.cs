using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Modal.Secrets.Infrastructure;

namespace Modal.Secrets.Endpoints;

/// <summary>A secret as listed: its name and times, never its values.</summary>
public sealed record SecretSummary(string Name, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public static class SecretEndpoints
{
    public static IEndpointRouteBuilder MapSecretEndpoints(this IEndpointRouteBuilder routes)
    {
        var secrets = routes.MapGroup("/v1/workspaces/{workspaceId:guid}/secrets").WithTags("Secrets");
        secrets.MapGet("/", ListSecretsAsync).WithName("ListSecrets");
        return routes;
    }

    public static async Task<Ok<List<SecretSummary>>> ListSecretsAsync(
        Guid workspaceId, SecretsDbContext db, CancellationToken cancellationToken)
    {
        var summaries = await db.Secrets.AsNoTracking()
            .Where(s => s.WorkspaceId == workspaceId)
            .OrderBy(s => s.Name)
            .Select(s => new SecretSummary(s.Name, s.CreatedAt, s.UpdatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(summaries);
    }
}
