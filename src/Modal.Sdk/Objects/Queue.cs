using System.Runtime.CompilerServices;
using System.Text.Json;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Objects;
using Modal.Rest;

namespace Modal;

/// <summary>
/// A distributed FIFO queue shared by functions and local code of one workspace, as Modal's <c>modal.Queue</c>.
/// Items are any type System.Text.Json can write (<see cref="App.SerializerOptions"/>), at most 1 MiB of JSON each.
/// A Queue has a default partition and any number of named ones (1-64 bytes); each holds at most 5,000 items and is
/// cleared 24 hours (or its <see cref="QueuePutOptions.PartitionTtl"/>) after its last put. Every item is delivered to
/// exactly one getter.
/// </summary>
/// <example>
/// <code>
/// await using var queue = await Queue.EphemeralAsync(app.Client);
/// await queue.PutAsync(42);
/// var item = await queue.GetAsync&lt;int&gt;(new QueueGetOptions { Timeout = TimeSpan.FromSeconds(5) });
/// </code>
/// </example>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix",
    Justification = "The name mirrors Modal's own API (modal.Queue), which users of this SDK know.")]
public sealed class Queue : IAsyncDisposable
{
    /// <summary>The longest one get request waits on the server; longer waits are several requests.</summary>

    private readonly ModalClient _client;
    private readonly bool _createIfMissing;
    private readonly EphemeralLease? _lease;
    private readonly ObjectHandle _handle;

    private Queue(ModalClient client, string name, bool createIfMissing, EphemeralLease? lease)
    {
        _client = client;
        Name = name;
        _createIfMissing = createIfMissing;
        _lease = lease;
        _handle = new ObjectHandle(createIfMissing, token => client.Queues.EnsureAsync(name, cancellationToken: token));
    }

    /// <summary>The Queue's name.</summary>
    public string Name { get; }

    /// <summary>True for a Queue from <see cref="EphemeralAsync"/>.</summary>
    public bool IsEphemeral => _lease is not null;

    /// <summary>
    /// A handle to the Queue named <paramref name="name"/>. Nothing is sent yet: with <paramref name="createIfMissing"/>
    /// the first operation creates it if needed; without, operations on a missing Queue throw <see cref="NotFoundException"/>.
    /// </summary>
    /// <param name="client">The connection (inside a function: <see cref="App.Client"/>).</param>
    /// <param name="name">1-64 letters, digits, '-', '_' or '.'.</param>
    /// <param name="createIfMissing">Create the Queue on first use when it does not exist.</param>
    public static Queue FromName(ModalClient client, string name, bool createIfMissing = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Queue(client, name, createIfMissing, lease: null);
    }

    /// <summary>
    /// Creates a Queue with a generated name that lives while this handle does, as Modal's <c>Queue.ephemeral()</c>
    /// lives while its app runs. Disposing the handle deletes the Queue; if the process dies first, its heartbeats stop
    /// and the platform drops the Queue after its ephemeral TTL (a minute by default).
    /// </summary>
    /// <param name="client">The connection.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public static async Task<Queue> EphemeralAsync(ModalClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var (name, lease) = await ObjectLifecycle.Of(client.Queues).CreateEphemeralAsync(cancellationToken).ConfigureAwait(false);
        return new Queue(client, name, createIfMissing: false, lease);
    }

    /// <summary>The workspace's Queues by name.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public static Task<IReadOnlyList<StorageObjectInfo>> ListAsync(ModalClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Queues.ListAsync(cancellationToken));
    }

    /// <summary>Deletes the Queue named <paramref name="name"/> with its items.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="name">The Queue's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">There is no such Queue.</exception>
    public static Task DeleteAsync(ModalClient client, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Queues.DeleteAsync(name, cancellationToken));
    }

    /// <summary>The Queue as the platform lists it (creating it first when the handle was made with <c>createIfMissing</c>).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">There is no such Queue.</exception>
    public Task<StorageObjectInfo> InfoAsync(CancellationToken cancellationToken = default) =>
        ObjectLifecycle.Of(_client.Queues).InfoAsync(Name, _createIfMissing, cancellationToken);

    /// <summary>Appends <paramref name="value"/> to the end of the partition.</summary>
    /// <typeparam name="T">The item's type.</typeparam>
    /// <param name="value">The item (at most 1 MiB as JSON).</param>
    /// <param name="options">Partition and partition TTL.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="QueueFullException">The partition holds 5,000 items.</exception>
    /// <exception cref="RequestSizeException">The item is over 1 MiB as JSON.</exception>
    public Task PutAsync<T>(T value, QueuePutOptions? options = null, CancellationToken cancellationToken = default) =>
        PutManyAsync([value], options, cancellationToken);

    /// <summary>Appends <paramref name="values"/>, in order, in one atomic step: all are added or, when the partition would pass 5,000 items, none.</summary>
    /// <typeparam name="T">The items' type.</typeparam>
    /// <param name="values">The items (at most 1 MiB each as JSON, 32 MiB in all).</param>
    /// <param name="options">Partition and partition TTL.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="QueueFullException">The partition would hold more than 5,000 items.</exception>
    /// <exception cref="RequestSizeException">An item is over 1 MiB as JSON.</exception>
    public Task PutManyAsync<T>(IEnumerable<T> values, QueuePutOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var items = values.Select(v => JsonSerializer.SerializeToElement(v, App.SerializerOptions)).ToList();
        if (items.Count == 0)
        {
            return Task.CompletedTask;
        }
        return _handle.RunAsync(() => _client.Queues.PutAsync(
            Name, items, options?.Partition, options?.PartitionTtl?.TotalSeconds, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Removes and returns the oldest item of the partition. Blocking (the default) waits for one, up to
    /// <see cref="QueueGetOptions.Timeout"/>, in long-polls of at most 50 seconds; a put on any replica wakes it.
    /// </summary>
    /// <typeparam name="T">The item's type.</typeparam>
    /// <param name="options">Partition, whether to block, and for how long.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="QueueEmptyException">No item came in time, or (not blocking) the partition is empty.</exception>
    public async Task<T?> GetAsync<T>(QueueGetOptions? options = null, CancellationToken cancellationToken = default)
    {
        var items = await TakeAsync<T>(1, options ?? new(), cancellationToken).ConfigureAwait(false);
        return items.Count > 0 ? items[0] : throw Empty(options);
    }

    /// <summary>
    /// Removes and returns up to <paramref name="maxValues"/> of the oldest items. Blocking (the default) waits until
    /// there is at least one; not blocking returns an empty list when the partition is empty.
    /// </summary>
    /// <typeparam name="T">The items' type.</typeparam>
    /// <param name="maxValues">Most items to take (1-5000).</param>
    /// <param name="options">Partition, whether to block, and for how long.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="QueueEmptyException">Blocking, and no item came within the timeout.</exception>
    public async Task<IReadOnlyList<T?>> GetManyAsync<T>(int maxValues, QueueGetOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxValues, 1);
        options ??= new();
        var items = await TakeAsync<T>(maxValues, options, cancellationToken).ConfigureAwait(false);
        return items.Count > 0 || !options.Block ? items : throw Empty(options);
    }

    /// <summary>Items in the partition, or with <paramref name="total"/> in every partition.</summary>
    /// <param name="partition">The partition; null for the default one.</param>
    /// <param name="total">Count every partition.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<long> LenAsync(string? partition = null, bool total = false, CancellationToken cancellationToken = default) =>
        (await _handle.RunAsync(() => _client.Queues.LenAsync(Name, partition, total ? true : null, cancellationToken), cancellationToken)
            .ConfigureAwait(false)).Length;

    /// <summary>
    /// The partition's items, oldest first, without removing them (Modal's <c>iterate</c>), read page by page. Items
    /// taken by getters during the iteration shift the positions, so some may be skipped.
    /// </summary>
    /// <typeparam name="T">The items' type.</typeparam>
    /// <param name="partition">The partition; null for the default one.</param>
    /// <param name="cancellationToken">Stops the iteration.</param>
    public async IAsyncEnumerable<T?> IterateAsync<T>(string? partition = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (long start = 0; ; start += PageSize)
        {
            var page = await _handle.RunAsync(() => _client.Queues.PeekAsync(Name, partition, start, PageSize, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item.Deserialize<T>(App.SerializerOptions);
            }
            if (page.Items.Count < PageSize)
            {
                yield break;
            }
        }
    }

    /// <summary>Empties the partition, or with <paramref name="all"/> every partition.</summary>
    /// <param name="partition">The partition; null for the default one.</param>
    /// <param name="all">Empty every partition.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task ClearAsync(string? partition = null, bool all = false, CancellationToken cancellationToken = default) =>
        _handle.RunAsync(() => _client.Queues.ClearAsync(Name, partition, all ? true : null, cancellationToken), cancellationToken);

    /// <summary>Deletes an ephemeral Queue; nothing for a named one.</summary>
    public ValueTask DisposeAsync() => _lease?.DisposeAsync() ?? ValueTask.CompletedTask;

    private const int PageSize = 100;

    private async Task<List<T?>> TakeAsync<T>(int count, QueueGetOptions options, CancellationToken cancellationToken)
    {
        if (options.Timeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "A timeout must not be negative.");
        }
        var deadline = options.Timeout is { } timeout ? DateTimeOffset.UtcNow + timeout : DateTimeOffset.MaxValue;
        while (true)
        {
            var remaining = deadline == DateTimeOffset.MaxValue ? ApiLimits.MaxLongPoll : deadline - DateTimeOffset.UtcNow;
            var wait = options.Block ? Math.Clamp(remaining.TotalSeconds, 0, ApiLimits.MaxLongPoll.TotalSeconds) : 0;
            var taken = await _handle.RunAsync(() => _client.Queues.GetAsync(Name, options.Partition, count, wait, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
            if (taken.Items.Count > 0 || !options.Block || DateTimeOffset.UtcNow >= deadline)
            {
                return taken.Items.Select(i => i.Deserialize<T>(App.SerializerOptions)).ToList();
            }
        }
    }

    private QueueEmptyException Empty(QueueGetOptions? options) =>
        new($"Queue '{Name}'{(options?.Partition is { } p ? $" partition '{p}'" : "")} had no item" +
            (options is { Block: false } ? "." : options?.Timeout is { } t ? $" within {t}." : "."));
}
