using System.Text.Json;
using Modal.Api.Contracts.Objects;
using Modal.Api.Contracts.Queues;
using Refit;

namespace Modal.Rest;

/// <summary>
/// Low-level REST client for <c>/v1/queues</c>; usable on its own from any .NET application. Without a partition an
/// operation acts on the default partition. Errors are problem details: 404 for an unknown Queue (naming it), 400 for
/// an invalid name or partition key (1-64 bytes), 409 (type <c>urn:modal:problem:queue-full</c>) when a partition
/// would hold more than 5,000 items, 413 for an item over 1 MiB.
/// </summary>
public interface IQueuesApi
{
    /// <summary>Lists the workspace's Queues by name.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/queues")]
    Task<IReadOnlyList<StorageObjectInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Gets a Queue, creating it when missing.</summary>
    /// <param name="name">The Queue's name.</param>
    /// <param name="ephemeral">Create it ephemeral: it is gone unless <see cref="HeartbeatAsync"/> is called within the server's TTL.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Put("/v1/queues/{name}")]
    Task<StorageObjectInfo> EnsureAsync(string name, [Query] bool? ephemeral = null, CancellationToken cancellationToken = default);

    /// <summary>Gets a Queue; 404 when there is none of that name.</summary>
    /// <param name="name">The Queue's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/queues/{name}")]
    Task<StorageObjectInfo> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes a Queue and its items.</summary>
    /// <param name="name">The Queue's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/queues/{name}")]
    Task DeleteAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Keeps an ephemeral Queue alive; a no-op for others.</summary>
    /// <param name="name">The Queue's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/queues/{name}/heartbeat")]
    Task HeartbeatAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Appends items to a partition, all or none, and restarts the partition's TTL.</summary>
    /// <param name="name">The Queue's name.</param>
    /// <param name="items">The items (JSON, at most 1 MiB each).</param>
    /// <param name="partition">The partition; null for the default one.</param>
    /// <param name="partitionTtl">Seconds after this put until the partition is cleared (default 86,400).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/queues/{name}/items")]
    Task<QueuePutResult> PutAsync(
        string name, [Body(buffered: true)] IReadOnlyList<JsonElement> items, [Query] string? partition = null, [Query] double? partitionTtl = null,
        CancellationToken cancellationToken = default);

    /// <summary>Removes and returns up to <paramref name="count"/> items, waiting up to <paramref name="timeout"/> seconds (0-50) for one. Empty when none came.</summary>
    /// <param name="name">The Queue's name.</param>
    /// <param name="partition">The partition; null for the default one.</param>
    /// <param name="count">Most items to take (1-5000; default 1).</param>
    /// <param name="timeout">Seconds to wait for an item; 0 (default) looks once.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/queues/{name}/get")]
    Task<QueueItems> GetAsync(
        string name, [Query] string? partition = null, [Query] int? count = null, [Query] double? timeout = null,
        CancellationToken cancellationToken = default);

    /// <summary>Reads items without removing them, from index <paramref name="start"/> (0: the oldest).</summary>
    /// <param name="name">The Queue's name.</param>
    /// <param name="partition">The partition; null for the default one.</param>
    /// <param name="start">First index.</param>
    /// <param name="count">Most items (1-1000; default 100).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/queues/{name}/items")]
    Task<QueueItems> PeekAsync(
        string name, [Query] string? partition = null, [Query] long? start = null, [Query] int? count = null,
        CancellationToken cancellationToken = default);

    /// <summary>Empties a partition, or every partition.</summary>
    /// <param name="name">The Queue's name.</param>
    /// <param name="partition">The partition; null for the default one.</param>
    /// <param name="all">Empty every partition.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/queues/{name}/items")]
    Task ClearAsync(string name, [Query] string? partition = null, [Query] bool? all = null, CancellationToken cancellationToken = default);

    /// <summary>Items in a partition, or in every partition.</summary>
    /// <param name="name">The Queue's name.</param>
    /// <param name="partition">The partition; null for the default one.</param>
    /// <param name="total">Count every partition.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/queues/{name}/len")]
    Task<ObjectLength> LenAsync(string name, [Query] string? partition = null, [Query] bool? total = null, CancellationToken cancellationToken = default);
}
