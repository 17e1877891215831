using Microsoft.AspNetCore.Http.HttpResults;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Secrets;
using Modal.Secrets.Domain;
using Modal.Secrets.Infrastructure;

namespace Modal.Secrets.Endpoints;

/// <summary>
/// <c>/v1/secrets</c>: the named secrets of the caller's workspace, reached only through the Api (which signs a
/// <see cref="SecretCredentials"/> credential for the caller's token's workspace onto each request). Values go in, never
/// out: every answer carries names and key names only.
/// </summary>
public static class SecretEndpoints
{
    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    public static IEndpointRouteBuilder MapSecretEndpoints(this IEndpointRouteBuilder routes)
    {
        var secrets = routes.MapGroup("/v1/secrets").WithTags("Secrets").AddEndpointFilter<SecretProblemFilter>();
        secrets.MapGet("/", ListSecretsAsync).WithName("ListSecrets");
        secrets.MapPost("/", CreateSecretAsync).WithName("CreateSecret");
        secrets.MapGet("/{name}", GetSecretAsync).WithName("GetSecret");
        secrets.MapPut("/{name}", ReplaceSecretAsync).WithName("ReplaceSecret");
        secrets.MapPatch("/{name}", UpdateSecretAsync).WithName("UpdateSecret");
        secrets.MapDelete("/{name}", DeleteSecretAsync).WithName("DeleteSecret");
        return routes;
    }

    public static async Task<Ok<List<SecretInfo>>> ListSecretsAsync(WorkspaceScope workspace, SecretVault vault, CancellationToken cancellationToken) =>
        TypedResults.Ok(await vault.ListAsync(workspace.WorkspaceId, cancellationToken));

    public static async Task<Ok<SecretInfo>> GetSecretAsync(
        string name, WorkspaceScope workspace, SecretVault vault, CancellationToken cancellationToken) =>
        TypedResults.Ok(await vault.GetAsync(workspace.WorkspaceId, name, cancellationToken));

    /// <summary>Creates a secret: 201 when created; with <c>allowExisting</c> an existing one is answered (200) and left unchanged, else 409.</summary>
    public static async Task<Results<Created<SecretInfo>, Ok<SecretInfo>>> CreateSecretAsync(
        CreateSecretRequest request, WorkspaceScope workspace, SecretVault vault, CancellationToken cancellationToken)
    {
        var (secret, created) = await vault.CreateAsync(workspace.WorkspaceId, request.Name, request.Values ?? Empty, request.AllowExisting, cancellationToken);
        return created ? TypedResults.Created($"/v1/secrets/{secret.Name}", secret) : TypedResults.Ok(secret);
    }

    /// <summary>Sets the secret to exactly these values (creating it when missing): what a deploy does with secrets defined in the program.</summary>
    public static async Task<Results<Created<SecretInfo>, Ok<SecretInfo>>> ReplaceSecretAsync(
        string name, SecretValuesRequest request, WorkspaceScope workspace, SecretVault vault, CancellationToken cancellationToken)
    {
        var (secret, created) = await vault.ReplaceAsync(workspace.WorkspaceId, name, request.Values ?? Empty, cancellationToken);
        return created ? TypedResults.Created($"/v1/secrets/{secret.Name}", secret) : TypedResults.Ok(secret);
    }

    /// <summary>Merges the values into the secret: given keys are set, others kept.</summary>
    public static async Task<Ok<SecretInfo>> UpdateSecretAsync(
        string name, SecretValuesRequest request, WorkspaceScope workspace, SecretVault vault, CancellationToken cancellationToken) =>
        TypedResults.Ok(await vault.UpdateAsync(workspace.WorkspaceId, name, request.Values ?? Empty, cancellationToken));

    public static async Task<NoContent> DeleteSecretAsync(string name, WorkspaceScope workspace, SecretVault vault, CancellationToken cancellationToken)
    {
        await vault.DeleteAsync(workspace.WorkspaceId, name, cancellationToken);
        return TypedResults.NoContent();
    }
}

/// <summary>
/// The workspace a request acts for. With a <c>SecretCredentials:Key</c> configured (as the AppHost always does) it
/// comes only from a valid <see cref="SecretCredentials"/> credential, which only the Api signs, after authenticating
/// the caller; the bare <see cref="HeaderName"/> header is ignored, so a process that reaches the service's port gets
/// nowhere, and a Storage credential (another purpose, another key) is no credential here. Without a key the service
/// trusts the header, and only platform services may then reach it.
/// </summary>
public sealed record WorkspaceScope(Guid WorkspaceId)
{
    public const string HeaderName = ApiHeaders.WorkspaceId;

    /// <summary>Binds from the credential (or header); none valid binds as <see cref="Guid.Empty"/>, which <see cref="SecretProblemFilter"/> refuses.</summary>
    public static ValueTask<WorkspaceScope?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<WorkspaceScope?>(new(TryRead(context) ?? Guid.Empty));

    public static Guid? TryRead(HttpContext context) => context.RequestServices.GetRequiredService<SecretCredentials>().WorkspaceOf(context);
}

/// <summary>
/// Guards every <c>/v1/secrets</c> route: refuses requests without a workspace, and answers the vault's typed failures
/// as problem details (only these; anything else stays a 500). Their messages name secrets and keys, never values.
/// </summary>
public sealed class SecretProblemFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (WorkspaceScope.TryRead(http) is null)
        {
            return http.RequestServices.GetRequiredService<SecretCredentials>().Enabled
                ? TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Missing or invalid secrets credential",
                    detail: $"The Secrets service answers only requests the Api signed: call /v1/secrets on the Api with a workspace token. "
                        + $"If the Api sent this, give the Api and the Secrets service the same {SecretCredentialOptions.SectionName}:Key "
                        + $"(the Api signs a fresh one per request into '{SecretCredentials.HeaderName}'; a Storage credential is not one).")
                : TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Missing workspace",
                    detail: $"Secrets are reached through the Api, which names the caller's workspace in '{WorkspaceScope.HeaderName}'.");
        }
        return await SecretProblems.InvokeAsync(context, next);
    }
}

/// <summary>The vault's failures as problem details.</summary>
public static class SecretProblems
{
    public const string NotFoundType = "urn:modal:problem:secret-not-found";
    public const string MissingKeysType = "urn:modal:problem:secret-missing-keys";

    public static async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (SecretNotFoundException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Secret not found", detail: e.Message, type: NotFoundType);
        }
        catch (MissingSecretKeysException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Missing secret keys", detail: e.Message,
                type: MissingKeysType);
        }
        catch (SecretExistsException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Secret exists", detail: e.Message);
        }
        catch (InvalidSecretRequestException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid secret", detail: e.Message);
        }
    }
}
