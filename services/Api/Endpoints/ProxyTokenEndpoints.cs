using System.Security.Claims;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Modal.Api.Authentication;
using Modal.Api.Contracts.Web;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;
using Modal.Api.Web;
using Modal.Contracts.Web;

namespace Modal.Api.Endpoints;

/// <summary>Proxy-auth tokens: the <c>Modal-Key</c>/<c>Modal-Secret</c> pairs that open web endpoints requiring proxy auth.</summary>
public static class ProxyTokenEndpoints
{
    public static RouteGroupBuilder MapProxyTokenEndpoints(this RouteGroupBuilder v1)
    {
        // Minting a credential is the workspace owner's business, as for API tokens: not a container's.
        var tokens = v1.MapGroup("/proxy-tokens").WithTags("Proxy tokens").RequireAuthorization(ApiPolicies.ManageTokens);
        tokens.MapPost("/", CreateProxyTokenAsync).WithName("CreateProxyToken");
        tokens.MapGet("/", ListProxyTokensAsync).WithName("ListProxyTokens");
        tokens.MapDelete("/{id}", DeleteProxyTokenAsync).WithName("DeleteProxyToken");
        return v1;
    }

    /// <summary>Creates a token; its secret is in this answer only.</summary>
    public static async Task<Results<Created<ProxyTokenInfo>, ValidationProblem>> CreateProxyTokenAsync(
        CreateProxyTokenRequest? request, ClaimsPrincipal caller, ApiDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var name = request?.Name?.Trim();
        if (name is { Length: > ProxyTokenCredentials.MaxNameLength })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["name"] = [$"A proxy token's name is at most {ProxyTokenCredentials.MaxNameLength} characters."],
            });
        }
        if (name is not null && name.Any(char.IsControl))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["name"] = ["A proxy token's name cannot contain control characters."],
            });
        }

        var (id, secret) = ProxyTokenCredentials.Generate();
        var token = new ProxyToken
        {
            Id = id,
            WorkspaceId = caller.WorkspaceId(),
            Name = string.IsNullOrEmpty(name) ? null : name,
            SecretHash = TokenCredentials.HashSecret(secret),
            CreatedAt = clock.GetUtcNow(),
        };
        db.ProxyTokens.Add(token);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/v1/proxy-tokens/{id}", new ProxyTokenInfo(id, secret, token.Name, token.CreatedAt));
    }

    /// <summary>The workspace's tokens, newest first, without secrets.</summary>
    public static async Task<Ok<ProxyTokenList>> ListProxyTokensAsync(
        ClaimsPrincipal caller, ApiDbContext db, CancellationToken cancellationToken)
    {
        var workspaceId = caller.WorkspaceId();
        var tokens = await db.ProxyTokens.AsNoTracking()
            .Where(t => t.WorkspaceId == workspaceId)
            .OrderByDescending(t => t.CreatedAt).ThenBy(t => t.Id)
            .Select(t => new ProxyTokenInfo(t.Id, null, t.Name, t.CreatedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new ProxyTokenList(tokens));
    }

    /// <summary>
    /// Deletes a token of the caller's workspace; every Api replica stops accepting it at once (<see cref="ProxyTokenRevoked"/>).
    /// Another workspace's token answers like a missing one.
    /// </summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteProxyTokenAsync(
        string id, ClaimsPrincipal caller, ApiDbContext db, ProxyTokenValidator validator, IPublishEndpoint bus,
        CancellationToken cancellationToken)
    {
        var workspaceId = caller.WorkspaceId();
        var deleted = await db.ProxyTokens.Where(t => t.Id == id && t.WorkspaceId == workspaceId)
            .ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Proxy token not found",
                detail: $"No proxy token '{id}' belongs to this workspace. List them with GET /v1/proxy-tokens.");
        }

        validator.Forget(id);
        // The row is gone, so a replica that misses this event still refuses the token once its cache entry expires.
        await bus.Publish(new ProxyTokenRevoked { WorkspaceId = workspaceId, TokenId = id }, cancellationToken);
        return TypedResults.NoContent();
    }
}
