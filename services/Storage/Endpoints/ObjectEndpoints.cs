using Microsoft.AspNetCore.Http.HttpResults;
using Modal.Api.Contracts.Objects;
using Modal.Storage.Objects;

namespace Modal.Storage.Endpoints;

/// <summary>What Dicts, Queues and Volumes share: a route group guarded by <see cref="StorageObjectFilter"/>, and creation, lookup, listing, deletion, heartbeat.</summary>
public static class ObjectEndpoints
{
    /// <summary>Maps <c>/v1/{dicts|queues|volumes}</c> with its lifecycle routes and returns the group for the kind's own routes.</summary>
    public static RouteGroupBuilder MapObjectGroup(this IEndpointRouteBuilder routes, ObjectKind kind)
    {
        var plural = $"{kind}s";
        var group = routes.MapGroup($"/v1/{plural.ToLowerInvariant()}").WithTags(plural)
            .AddEndpointFilter<StorageObjectFilter>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/", (WorkspaceScope workspace, ObjectRegistry registry, CancellationToken cancellationToken) =>
            ListAsync(kind, workspace, registry, cancellationToken)).WithName($"List{plural}");
        group.MapPut("/{name}", (string name, bool? ephemeral, WorkspaceScope workspace, ObjectRegistry registry, CancellationToken cancellationToken) =>
            EnsureAsync(workspace.Target(kind, name), ephemeral ?? false, registry, cancellationToken)).WithName($"Ensure{kind}");
        group.MapGet("/{name}", (string name, WorkspaceScope workspace, ObjectRegistry registry, CancellationToken cancellationToken) =>
            GetAsync(workspace.Target(kind, name), registry, cancellationToken)).WithName($"Get{kind}");
        group.MapDelete("/{name}", (string name, WorkspaceScope workspace, ObjectRegistry registry, CancellationToken cancellationToken) =>
            DeleteAsync(workspace.Target(kind, name), registry, cancellationToken)).WithName($"Delete{kind}");
        group.MapPost("/{name}/heartbeat", (string name, WorkspaceScope workspace, ObjectRegistry registry, CancellationToken cancellationToken) =>
            HeartbeatAsync(workspace.Target(kind, name), registry, cancellationToken)).WithName($"Heartbeat{kind}");
        return group;
    }

    public static async Task<Ok<IReadOnlyList<StorageObjectInfo>>> ListAsync(
        ObjectKind kind, WorkspaceScope workspace, ObjectRegistry registry, CancellationToken cancellationToken) =>
        TypedResults.Ok(await registry.ListAsync(kind, workspace.WorkspaceId, cancellationToken));

    /// <summary>Gets the object, creating it when missing (Modal's <c>from_name(create_if_missing=True)</c>).</summary>
    public static async Task<Ok<StorageObjectInfo>> EnsureAsync(
        ObjectRef target, bool ephemeral, ObjectRegistry registry, CancellationToken cancellationToken) =>
        TypedResults.Ok(await registry.EnsureAsync(target, createIfMissing: true, ephemeral, cancellationToken));

    public static async Task<Ok<StorageObjectInfo>> GetAsync(ObjectRef target, ObjectRegistry registry, CancellationToken cancellationToken) =>
        TypedResults.Ok(await registry.EnsureAsync(target, createIfMissing: false, ephemeral: false, cancellationToken));

    public static async Task<NoContent> DeleteAsync(ObjectRef target, ObjectRegistry registry, CancellationToken cancellationToken)
    {
        await registry.DeleteAsync(target, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<NoContent> HeartbeatAsync(ObjectRef target, ObjectRegistry registry, CancellationToken cancellationToken)
    {
        await registry.HeartbeatAsync(target, cancellationToken);
        return TypedResults.NoContent();
    }
}
