using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Secrets;
using Modal.Secrets.Infrastructure;

namespace Modal.Secrets.Endpoints;

/// <summary>
/// <c>/internal/v1/secrets</c>: for platform services, never forwarded by the Api. <c>resolve</c> is the only way a
/// value leaves this service, to a runner (authenticated by <see cref="SecretsOptions.RunnerKey"/>) starting a container.
/// </summary>
public static class RunnerSecretEndpoints
{
    public static IEndpointRouteBuilder MapRunnerSecretEndpoints(this IEndpointRouteBuilder routes)
    {
        var runner = routes.MapGroup("/internal/v1/secrets").WithTags("Runner secrets")
            .AddEndpointFilter<RunnerKeyFilter>()
            .AddEndpointFilter((context, next) => SecretProblems.InvokeAsync(context, next));
        runner.MapPost("/resolve", ResolveSecretsAsync).WithName("ResolveSecrets");
        return routes;
    }

    /// <summary>The values of the listed secrets as one environment; 404 / 422 naming a missing secret or key.</summary>
    public static async Task<Ok<ResolvedSecrets>> ResolveSecretsAsync(
        ResolveSecretsRequest request, SecretVault vault, CancellationToken cancellationToken) =>
        TypedResults.Ok(new ResolvedSecrets(await vault.ResolveAsync(request.WorkspaceId, request.Secrets ?? [], cancellationToken)));
}

/// <summary>Lets through only requests carrying the runner key (compared in constant time).</summary>
public sealed class RunnerKeyFilter(IOptions<SecretsOptions> options) : IEndpointFilter
{
    private readonly byte[] _runnerKey = Encoding.UTF8.GetBytes(options.Value.RunnerKey);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var presented = Encoding.UTF8.GetBytes(context.HttpContext.Request.Headers[ApiHeaders.RunnerKey].ToString());
        if (!CryptographicOperations.FixedTimeEquals(presented, _runnerKey))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Runner credential required",
                detail: $"Only runners read secret values; present the runner key in '{ApiHeaders.RunnerKey}'.");
        }
        return await next(context);
    }
}
