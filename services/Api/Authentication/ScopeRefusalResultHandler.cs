using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Modal.Api.Authentication;

/// <summary>
/// Answers a refusal by <see cref="WorkspaceTokenHandler"/> with a 403 problem saying why and what to do instead (the
/// default answers a bare 403). Every other outcome is left to the default handler.
/// </summary>
public sealed class ScopeRefusalResultHandler(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        var refusals = authorizeResult.AuthorizationFailure?.FailureReasons.Where(r => r.Handler is WorkspaceTokenHandler).ToList();
        if (!authorizeResult.Forbidden || refusals is not { Count: > 0 })
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Not allowed with this token",
                Detail = string.Join(" ", refusals.Select(r => r.Message).Distinct()),
            },
        });
    }
}
