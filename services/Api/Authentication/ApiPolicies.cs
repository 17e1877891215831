using Microsoft.AspNetCore.Authorization;
using Modal.Api.Contracts.Tokens;

namespace Modal.Api.Authentication;

/// <summary>
/// The authorization policies of /v1 beyond "a valid token" (which every route requires): what only a
/// <see cref="TokenScopes.Workspace"/> token may do. A <see cref="TokenScopes.Container"/> token may do what a function
/// may do on Modal; these policies name what it may not, so a route is open to containers unless it says otherwise.
/// </summary>
public static class ApiPolicies
{
    /// <summary>Minting, listing and revoking tokens.</summary>
    public const string ManageTokens = "ManageTokens";

    /// <summary>Deploying, creating (<c>modal run</c>) and stopping apps.</summary>
    public const string ManageApps = "ManageApps";

    /// <summary>Every secrets route: names and key names are the workspace owner's business, values even more so.</summary>
    public const string ManageSecrets = "ManageSecrets";

    public static IServiceCollection AddApiAuthorization(this IServiceCollection services)
    {
        services.AddSingleton<IAuthorizationHandler, WorkspaceTokenHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ScopeRefusalResultHandler>();
        return services.AddAuthorizationBuilder()
            .AddPolicy(ManageTokens, WorkspaceTokenOnly("mint, list or revoke tokens"))
            .AddPolicy(ManageApps, WorkspaceTokenOnly("deploy, run or stop apps"))
            .AddPolicy(ManageSecrets, WorkspaceTokenOnly("read or manage secrets"))
            .Services;
    }

    private static AuthorizationPolicy WorkspaceTokenOnly(string refusedAction) =>
        new AuthorizationPolicyBuilder(TokenAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .AddRequirements(new WorkspaceTokenRequirement(refusedAction))
            .Build();
}

/// <summary>The caller's token is a <see cref="TokenScopes.Workspace"/> token; <paramref name="RefusedAction"/> says what a container token was refused.</summary>
public sealed record WorkspaceTokenRequirement(string RefusedAction) : IAuthorizationRequirement;

/// <summary>
/// Passes workspace tokens only (an unknown scope fails too: a scope added later opens nothing by accident). A refusal
/// carries the detail the 403 answers with (<see cref="ScopeRefusalResultHandler"/>).
/// </summary>
public sealed class WorkspaceTokenHandler : AuthorizationHandler<WorkspaceTokenRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, WorkspaceTokenRequirement requirement)
    {
        var scope = context.User.TokenScope();
        if (scope == TokenScopes.Workspace)
        {
            context.Succeed(requirement);
        }
        else if (scope is not null)
        {
            var holder = scope == TokenScopes.Container && context.User.ContainerAppId() is { } app
                ? $"This token belongs to a container of app {app}"
                : $"This token's scope is '{scope}'";
            context.Fail(new AuthorizationFailureReason(this,
                $"{holder}; it cannot {requirement.RefusedAction}. Do that with a workspace token " +
                "(the one on your machine or in CI), not from inside a function."));
        }
        return Task.CompletedTask;
    }
}
