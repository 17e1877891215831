using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
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
            .AddEndpointFilter(new RunnerKeyFilter(
                routes.ServiceProvider.GetRequiredService<IOptions<SecretsOptions>>().Value.RunnerKey, "Only runners read secret values"))
            .AddEndpointFilter((context, next) => SecretProblems.InvokeAsync(context, next));
        runner.MapPost("/resolve", ResolveSecretsAsync).WithName("ResolveSecrets");
        return routes;
    }

    /// <summary>The values of the listed secrets as one environment; 404 / 422 naming a missing secret or key.</summary>
    public static async Task<Ok<ResolvedSecrets>> ResolveSecretsAsync(
        ResolveSecretsRequest request, SecretVault vault, CancellationToken cancellationToken) =>
        TypedResults.Ok(new ResolvedSecrets(await vault.ResolveAsync(request.WorkspaceId, request.Secrets ?? [], cancellationToken)));
}
