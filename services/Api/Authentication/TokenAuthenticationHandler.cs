using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Tokens;
using Modal.Api.Infrastructure;

namespace Modal.Api.Authentication;

/// <summary>
/// Authenticates every /v1 request by workspace token. Verified tokens are cached for
/// <see cref="CacheLifetime"/> so the call path does not wait on PostgreSQL for every request; a revocation
/// therefore takes effect on other Api replicas within that time (at once on the replica that revoked it).
/// </summary>
public sealed class TokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiDbContext db, IMemoryCache cache)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ModalToken";
    public const string WorkspaceIdClaim = "modal:workspace_id";
    public const string TokenIdClaim = "modal:token_id";
    /// <summary>The token's <see cref="TokenScopes"/> name.</summary>
    public const string ScopeClaim = "modal:token_scope";
    /// <summary>For a container token, the app (<c>ap-…</c>) whose containers hold it.</summary>
    public const string AppIdClaim = "modal:app_id";
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(30);

    private sealed record VerifiedToken(Guid WorkspaceId, byte[] SecretHash, string Scope, Guid? AppId);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var credentials = TokenCredentials.Parse(
            Request.Headers.Authorization, Request.Headers[TokenCredentials.TokenIdHeader], Request.Headers[TokenCredentials.TokenSecretHeader]);
        if (credentials is not var (tokenId, secret))
        {
            return AuthenticateResult.NoResult();
        }

        var token = await cache.GetOrCreateAsync(CacheKey(tokenId), async entry =>
        {
            entry.AbsoluteExpirationRelativeToNow = CacheLifetime;
            return await db.ApiTokens.AsNoTracking()
                .Where(t => t.Id == tokenId && t.RevokedAt == null)
                .Select(t => new VerifiedToken(t.WorkspaceId, t.SecretHash, t.Scope, t.AppId))
                .SingleOrDefaultAsync(Context.RequestAborted);
        });
        if (token is null || !TokenCredentials.SecretMatches(secret, token.SecretHash))
        {
            return AuthenticateResult.Fail("Unknown, revoked or mismatched token.");
        }

        List<Claim> claims =
        [
            new(TokenIdClaim, tokenId), new(WorkspaceIdClaim, token.WorkspaceId.ToString()), new(ScopeClaim, token.Scope),
        ];
        if (token.AppId is { } appId)
        {
            claims.Add(new Claim(AppIdClaim, AppIds.Format(appId)));
        }
        var identity = new ClaimsIdentity(claims, SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var problems = Context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Authentication required",
                Detail = "Send a workspace token as 'Authorization: Bearer <token id>:<token secret>' or as the headers " +
                    $"'{TokenCredentials.TokenIdHeader}' and '{TokenCredentials.TokenSecretHeader}'. A fresh install prints its first token once.",
            },
        });
    }

    /// <summary>Drops a token from this replica's cache (after a revocation).</summary>
    public static void Forget(IMemoryCache cache, string tokenId) => cache.Remove(CacheKey(tokenId));

    private static string CacheKey(string tokenId) => $"token:{tokenId}";
}

/// <summary>The authenticated caller's workspace and token.</summary>
public static class CallerClaims
{
    public static Guid WorkspaceId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(TokenAuthenticationHandler.WorkspaceIdClaim)
            ?? throw new InvalidOperationException("The request is not authenticated with a workspace token."));

    public static string TokenId(this ClaimsPrincipal user) =>
        user.FindFirstValue(TokenAuthenticationHandler.TokenIdClaim)
            ?? throw new InvalidOperationException("The request is not authenticated with a workspace token.");

    /// <summary>The token's <see cref="TokenScopes"/> name; null when the request is not authenticated.</summary>
    public static string? TokenScope(this ClaimsPrincipal user) => user.FindFirstValue(TokenAuthenticationHandler.ScopeClaim);

    /// <summary>For a container token, the app (<c>ap-…</c>) whose containers hold it; otherwise null.</summary>
    public static string? ContainerAppId(this ClaimsPrincipal user) => user.FindFirstValue(TokenAuthenticationHandler.AppIdClaim);
}
