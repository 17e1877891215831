using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Modal.Api.Authentication;
using Modal.Api.Contracts.Tokens;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;

namespace Modal.Api.Endpoints;

public static class TokenEndpoints
{
    public static RouteGroupBuilder MapTokenEndpoints(this RouteGroupBuilder v1)
    {
        // A container's token must not outlive its app through a token it minted, nor revoke others.
        var tokens = v1.MapGroup("/tokens").WithTags("Tokens").RequireAuthorization(ApiPolicies.ManageTokens);
        tokens.MapPost("/", CreateTokenAsync).WithName("CreateToken");
        tokens.MapGet("/", ListTokensAsync).WithName("ListTokens");
        tokens.MapDelete("/{id}", RevokeTokenAsync).WithName("RevokeToken");
        return v1;
    }

    public static async Task<Results<Created<CreatedToken>, ValidationProblem>> CreateTokenAsync(
        CreateTokenRequest request, ClaimsPrincipal caller, ApiDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var name = request.Name?.Trim() ?? "";
        if (name.Length is 0 or > 100 || name.Any(char.IsControl))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["name"] = ["A token name is 1-100 characters and no control characters, e.g. \"ci\" or \"laptop\"."],
            });
        }

        var (id, secret) = TokenCredentials.Generate();
        var token = new ApiToken
        {
            Id = id,
            WorkspaceId = caller.WorkspaceId(),
            Name = name,
            SecretHash = TokenCredentials.HashSecret(secret),
            CreatedAt = clock.GetUtcNow(),
        };
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/v1/tokens/{id}", new CreatedToken(id, secret, token.Name, token.CreatedAt));
    }

    public static async Task<Ok<List<TokenInfo>>> ListTokensAsync(
        ClaimsPrincipal caller, ApiDbContext db, CancellationToken cancellationToken)
    {
        var workspaceId = caller.WorkspaceId();
        var tokens = await db.ApiTokens.AsNoTracking()
            .Where(t => t.WorkspaceId == workspaceId)
            .OrderBy(t => t.CreatedAt)
            .Select(t => new TokenInfo(t.Id, t.Name, t.CreatedAt, t.RevokedAt, t.Scope))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(tokens);
    }

    /// <summary>Revokes a token of the caller's workspace (the caller's own included). Revoking twice is not an error.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeTokenAsync(
        string id, ClaimsPrincipal caller, ApiDbContext db, IMemoryCache cache, TimeProvider clock, CancellationToken cancellationToken)
    {
        var workspaceId = caller.WorkspaceId();
        var now = clock.GetUtcNow();
        var found = await db.ApiTokens.Where(t => t.Id == id && t.WorkspaceId == workspaceId).AnyAsync(cancellationToken);
        if (!found)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Token not found",
                detail: $"No token '{id}' belongs to this workspace. List them with GET /v1/tokens.");
        }

        await db.ApiTokens.Where(t => t.Id == id && t.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.RevokedAt, now), cancellationToken);
        TokenAuthenticationHandler.Forget(cache, id);
        return TypedResults.NoContent();
    }
}
