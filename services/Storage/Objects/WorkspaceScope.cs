namespace Modal.Storage.Objects;

/// <summary>
/// The workspace a request acts for. With a <c>StorageCredentials:Key</c> configured it comes only from a valid
/// <see cref="StorageCredentials"/> credential (issued by the Api to clients, which then call Storage directly, or
/// attached by the Api's forwarder and by runners), and the bare <see cref="HeaderName"/> header is ignored, so Storage
/// can be reachable by clients. Without a key Storage trusts the header, which only platform services may then reach it to send.
/// </summary>
public sealed record WorkspaceScope(Guid WorkspaceId)
{
    public const string HeaderName = WorkspaceHeader.Name;

    /// <summary>Binds from the header; a missing or malformed one binds as <see cref="Guid.Empty"/>, which <see cref="StorageObjectFilter"/> refuses.</summary>
    public static ValueTask<WorkspaceScope?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<WorkspaceScope?>(new(TryRead(context) ?? Guid.Empty));

    public static Guid? TryRead(HttpContext context) => context.RequestServices.GetRequiredService<StorageCredentials>().WorkspaceOf(context);

    public ObjectRef Dict(string name) => new(ObjectKind.Dict, WorkspaceId, name);

    public ObjectRef Queue(string name) => new(ObjectKind.Queue, WorkspaceId, name);

    public ObjectRef Volume(string name) => new(ObjectKind.Volume, WorkspaceId, name);

    public ObjectRef Target(ObjectKind kind, string name) => new(kind, WorkspaceId, name);
}

/// <summary>
/// Guards every Dict, Queue, Volume and blob route: refuses requests without a workspace or with an invalid name, and answers the
/// storage layer's typed failures as problem details (only these; anything else stays a 500).
/// </summary>
public sealed class StorageObjectFilter : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (WorkspaceScope.TryRead(http) is null)
        {
            return http.RequestServices.GetRequiredService<StorageCredentials>().Enabled
                ? TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Missing or invalid storage credential",
                    detail: $"Send a current credential from the Api's POST /v1/storage/credentials in '{StorageCredentials.HeaderName}' (it expires; ask for a new one).")
                : TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Missing workspace",
                    detail: $"Dicts, Queues and Volumes are reached through the Api, which names the caller's workspace in '{WorkspaceScope.HeaderName}'.");
        }
        if (http.GetRouteValue("name") is string name && !ObjectNames.IsValidName(name))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid name",
                detail: $"'{name}' is not a valid name: use {ObjectNames.NameRule}.");
        }
        try
        {
            return await next(context);
        }
        catch (ObjectNotFoundException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"{e.Target.Kind} not found",
                detail: $"{e.Target} does not exist in this workspace.");
        }
        catch (QueueFullException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Queue full", detail: e.Message, type: QueueFullProblemType);
        }
        catch (VolumeFileNotFoundException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "File not found", detail: e.Message);
        }
        catch (Exception e) when (e is VolumeFileExistsException or ObjectExistsException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Already exists", detail: e.Message);
        }
        catch (PayloadTooLargeException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Too large", detail: e.Message);
        }
        catch (InvalidStorageRequestException e)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: e.Title, detail: e.Message);
        }
    }

    /// <summary>Problem type of a full queue, so clients can tell it from other conflicts.</summary>
    public const string QueueFullProblemType = "urn:modal:problem:queue-full";
}
