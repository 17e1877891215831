using System.Text.Json;
using Modal.Api.Contracts.Dicts;
using Modal.Api.Contracts.Objects;
using Refit;

namespace Modal.Rest;

/// <summary>
/// Low-level REST client for <c>/v1/dicts</c>; usable on its own from any .NET application. Errors are problem details:
/// 404 for an unknown Dict (naming it), 400 for an invalid name or key, 413 for a value over 1 MiB.
/// </summary>
public interface IDictsApi
{
    /// <summary>Lists the workspace's Dicts by name.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/dicts")]
    Task<IReadOnlyList<StorageObjectInfo>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Gets a Dict, creating it when missing.</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="ephemeral">Create it ephemeral: it is gone unless <see cref="HeartbeatAsync"/> is called within the server's TTL (a minute by default).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Put("/v1/dicts/{name}")]
    Task<StorageObjectInfo> EnsureAsync(string name, [Query] bool? ephemeral = null, CancellationToken cancellationToken = default);

    /// <summary>Gets a Dict; 404 when there is none of that name.</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/dicts/{name}")]
    Task<StorageObjectInfo> GetAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes a Dict and its entries.</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/dicts/{name}")]
    Task DeleteAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Keeps an ephemeral Dict alive; a no-op for others.</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/dicts/{name}/heartbeat")]
    Task HeartbeatAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Reads one entry; reading restarts its 7-day expiry.</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/dicts/{name}/entry")]
    Task<DictValue> GetEntryAsync(string name, [Query] string key, CancellationToken cancellationToken = default);

    /// <summary>Writes one entry; with <paramref name="skipIfExists"/> only when the key has none (atomic: one of several concurrent writers wins).</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="key">The key.</param>
    /// <param name="value">The value as JSON (at most 1 MiB).</param>
    /// <param name="skipIfExists">Leave an existing entry alone.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Put("/v1/dicts/{name}/entry")]
    Task<DictPutResult> PutEntryAsync(
        string name, [Query] string key, [Body(buffered: true)] JsonElement value, [Query] bool? skipIfExists = null, CancellationToken cancellationToken = default);

    /// <summary>Removes one entry and returns it.</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/dicts/{name}/entry")]
    Task<DictValue> PopEntryAsync(string name, [Query] string key, CancellationToken cancellationToken = default);

    /// <summary>Whether the key has an entry.</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/dicts/{name}/contains")]
    Task<DictContains> ContainsAsync(string name, [Query] string key, CancellationToken cancellationToken = default);

    /// <summary>Writes many entries at once.</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="entries">A JSON object of key → value.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Post("/v1/dicts/{name}/entries")]
    Task UpdateAsync(string name, [Body(buffered: true)] JsonElement entries, CancellationToken cancellationToken = default);

    /// <summary>One page of entries.</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="cursor">"0" (or null) for the first page, then the cursor of the previous page.</param>
    /// <param name="count">Entries to scan per page (1-1000; default 100).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/dicts/{name}/entries")]
    Task<DictEntriesPage> ListEntriesAsync(string name, [Query] string? cursor = null, [Query] int? count = null, CancellationToken cancellationToken = default);

    /// <summary>Removes every entry.</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Delete("/v1/dicts/{name}/entries")]
    Task ClearAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Number of entries, capped at 100,000.</summary>
    /// <param name="name">The Dict's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    [Get("/v1/dicts/{name}/len")]
    Task<ObjectLength> LenAsync(string name, CancellationToken cancellationToken = default);
}
