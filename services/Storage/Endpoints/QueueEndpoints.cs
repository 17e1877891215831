using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Objects;
using Modal.Api.Contracts.Queues;
using Modal.Storage.Objects;
using Modal.Storage.Queues;

namespace Modal.Storage.Endpoints;

/// <summary>
/// <c>/v1/queues</c>: Modal's Queue. Without <c>partition</c> an operation acts on the default partition; items are
/// JSON of at most 1 MiB, a partition holds at most 5,000 and is cleared its TTL (default 24 h) after its last put.
/// </summary>
public static class QueueEndpoints
{
    public static IEndpointRouteBuilder MapQueueEndpoints(this IEndpointRouteBuilder routes)
    {
        var queues = routes.MapObjectGroup(ObjectKind.Queue);
        queues.MapPost("/{name}/items", PutAsync).WithName("PutQueueItems")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        queues.MapPost("/{name}/get", GetAsync).WithName("GetQueueItems");
        queues.MapGet("/{name}/items", PeekAsync).WithName("PeekQueueItems");
        queues.MapDelete("/{name}/items", ClearAsync).WithName("ClearQueue");
        queues.MapGet("/{name}/len", LenAsync).WithName("QueueLen");
        return queues;
    }

    /// <summary>Appends the body's items (a JSON array) to the partition, all or none; refreshes the partition's TTL (seconds).</summary>
    public static async Task<SizedJson<QueuePutResult>> PutAsync(
        string name, string? partition, double? partitionTtl, HttpRequest request, WorkspaceScope workspace, QueueStore queues,
        CancellationToken cancellationToken)
    {
        var key = PartitionKey(partition);
        // Checked as a number before it becomes a TimeSpan: 1e22 seconds overflows one, and NaN passes every comparison.
        if (partitionTtl is { } seconds && !(seconds >= 1 && seconds <= StorageLimits.MaxPartitionTtl.TotalSeconds))
        {
            throw new InvalidStorageRequestException("Invalid partition TTL",
                $"partitionTtl is in seconds, from 1 to {StorageLimits.MaxPartitionTtl.TotalSeconds:0}.");
        }
        var ttl = partitionTtl is { } valid ? TimeSpan.FromSeconds(valid) : StorageLimits.DefaultPartitionTtl;
        using var body = await JsonBodies.ReadAsync(request, StorageLimits.MaxRequestBytes, cancellationToken);
        if (body.RootElement.ValueKind != JsonValueKind.Array || body.RootElement.GetArrayLength() == 0)
        {
            throw new InvalidStorageRequestException("Invalid items", "The body must be a non-empty JSON array of items.");
        }
        var items = body.RootElement.EnumerateArray().Select((item, i) => JsonBodies.Item(item, $"Item {i}")).ToList();
        return SizedJson.Ok(new QueuePutResult(await queues.PutAsync(workspace.Queue(name), key, items, ttl, cancellationToken)));
    }

    /// <summary>
    /// Removes and returns up to <c>count</c> items, waiting up to <c>timeout</c> seconds (at most 50: a long poll;
    /// clients ask again to wait longer) for at least one. An empty list means none came in time.
    /// </summary>
    public static async Task<JsonBytes<QueueItems>> GetAsync(
        string name, string? partition, int? count, double? timeout, WorkspaceScope workspace, QueueStore queues,
        CancellationToken cancellationToken)
    {
        var key = PartitionKey(partition);
        if (count is < 1 or > StorageLimits.MaxItemsPerGet || timeout is { } wait && !(wait >= 0 && wait <= ApiLimits.MaxLongPoll.TotalSeconds))
        {
            throw new InvalidStorageRequestException("Invalid get",
                $"count is 1-{StorageLimits.MaxItemsPerGet}; timeout is 0-{ApiLimits.MaxLongPoll.TotalSeconds:0} seconds.");
        }
        var items = await queues.GetAsync(workspace.Queue(name), key, count ?? 1, TimeSpan.FromSeconds(timeout ?? 0), cancellationToken);
        return StoredJsonAnswers.QueueItemsAnswer(items);
    }

    /// <summary>Items from index <c>start</c> (0: the head) without removing them, as Modal's <c>iterate</c> and <c>modal queue peek</c>.</summary>
    public static async Task<JsonBytes<QueueItems>> PeekAsync(
        string name, string? partition, long? start, int? count, WorkspaceScope workspace, QueueStore queues, CancellationToken cancellationToken)
    {
        var key = PartitionKey(partition);
        if (start is < 0 || count is < 1 or > StorageLimits.MaxPageSize)
        {
            throw new InvalidStorageRequestException("Invalid page", $"start is 0 or more; count is 1-{StorageLimits.MaxPageSize}.");
        }
        return StoredJsonAnswers.QueueItemsAnswer(await queues.PeekAsync(workspace.Queue(name), key, start ?? 0, count ?? 100, cancellationToken));
    }

    /// <summary>Empties the partition, or with <c>all</c> every partition.</summary>
    public static async Task<NoContent> ClearAsync(
        string name, string? partition, bool? all, WorkspaceScope workspace, QueueStore queues, CancellationToken cancellationToken)
    {
        await queues.ClearAsync(workspace.Queue(name), PartitionKey(partition), all ?? false, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Items in the partition, or with <c>total</c> in every partition.</summary>
    public static async Task<Ok<ObjectLength>> LenAsync(
        string name, string? partition, bool? total, WorkspaceScope workspace, QueueStore queues, CancellationToken cancellationToken) =>
        TypedResults.Ok(new ObjectLength(await queues.LenAsync(workspace.Queue(name), PartitionKey(partition), total ?? false, cancellationToken)));

    /// <summary>No partition: the default one (stored as ""). A named one is 1-64 bytes, as Modal's.</summary>
    private static string PartitionKey(string? partition) =>
        partition is null ? ""
        : ObjectNames.IsValidPartitionKey(partition) ? partition
        : throw new InvalidStorageRequestException("Invalid partition key",
            $"A partition key is 1-{StorageLimits.MaxPartitionKeyBytes} bytes of UTF-8 text; '{partition}' is not.");
}
