using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Modal.Api.Contracts.Dicts;
using Modal.Api.Contracts.Objects;
using Modal.Rest;

namespace Modal;

/// <summary>
/// A distributed key-value store shared by functions and local code of one workspace, as Modal's <c>modal.Dict</c>.
/// Keys are strings; values are any type System.Text.Json can write (<see cref="App.SerializerOptions"/>), at most
/// 1 MiB of JSON each. An entry expires after 7 days without a read or write.
/// </summary>
/// <example>
/// <code>
/// var dict = Dict.FromName(app.Client, "cache", createIfMissing: true);
/// await dict.PutAsync("model", new ModelInfo("resnet", 50));
/// var info = await dict.GetAsync&lt;ModelInfo&gt;("model");
/// </code>
/// </example>
public sealed class Dict : IAsyncDisposable
{
    private readonly ModalClient _client;
    private readonly bool _createIfMissing;
    private readonly EphemeralLease? _lease;
    private readonly ObjectHandle _handle;

    private Dict(ModalClient client, string name, bool createIfMissing, EphemeralLease? lease)
    {
        _client = client;
        Name = name;
        _createIfMissing = createIfMissing;
        _lease = lease;
        _handle = new ObjectHandle(createIfMissing, token => client.Dicts.EnsureAsync(name, cancellationToken: token));
    }

    /// <summary>The Dict's name.</summary>
    public string Name { get; }

    /// <summary>True for a Dict from <see cref="EphemeralAsync"/>.</summary>
    public bool IsEphemeral => _lease is not null;

    /// <summary>
    /// A handle to the Dict named <paramref name="name"/>. Nothing is sent yet: with <paramref name="createIfMissing"/>
    /// the first operation creates it if needed; without, operations on a missing Dict throw <see cref="NotFoundException"/>.
    /// </summary>
    /// <param name="client">The connection (inside a function: <see cref="App.Client"/>).</param>
    /// <param name="name">1-64 letters, digits, '-', '_' or '.'.</param>
    /// <param name="createIfMissing">Create the Dict on first use when it does not exist.</param>
    public static Dict FromName(ModalClient client, string name, bool createIfMissing = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Dict(client, name, createIfMissing, lease: null);
    }

    /// <summary>
    /// Creates a Dict with a generated name that lives while this handle does: disposing it deletes the Dict, and if the
    /// process dies first the platform drops it about a minute after its last heartbeat (see <see cref="Queue.EphemeralAsync"/>).
    /// </summary>
    /// <param name="client">The connection.</param>
    /// <param name="cancellationToken">Cancels the creation.</param>
    public static async Task<Dict> EphemeralAsync(ModalClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var (name, lease) = await ObjectLifecycle.Of(client.Dicts).CreateEphemeralAsync(cancellationToken).ConfigureAwait(false);
        return new Dict(client, name, createIfMissing: false, lease);
    }

    /// <summary>The workspace's Dicts by name.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public static Task<IReadOnlyList<StorageObjectInfo>> ListAsync(ModalClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Dicts.ListAsync(cancellationToken));
    }

    /// <summary>Deletes the Dict named <paramref name="name"/> with its entries.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="name">The Dict's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">There is no such Dict.</exception>
    public static Task DeleteAsync(ModalClient client, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Dicts.DeleteAsync(name, cancellationToken));
    }

    /// <summary>The Dict as the platform lists it (creating it first when the handle was made with <c>createIfMissing</c>).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">There is no such Dict.</exception>
    public Task<StorageObjectInfo> InfoAsync(CancellationToken cancellationToken = default) =>
        ObjectLifecycle.Of(_client.Dicts).InfoAsync(Name, _createIfMissing, cancellationToken);

    /// <summary>The value of <paramref name="key"/>, or <paramref name="defaultValue"/> when it has none. Reading restarts the entry's expiry.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="defaultValue">What to return for a missing key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">There is no such Dict.</exception>
    public async Task<T?> GetAsync<T>(string key, T? defaultValue = default, CancellationToken cancellationToken = default)
    {
        var found = await RunAsync(() => _client.Dicts.GetEntryAsync(Name, key, cancellationToken), cancellationToken).ConfigureAwait(false);
        return found.Found ? Deserialize<T>(found.Value!.Value) : defaultValue;
    }

    /// <summary>
    /// Sets <paramref name="key"/> to <paramref name="value"/>. With <paramref name="skipIfExists"/> an existing entry is
    /// kept and false returned; the test and the write are one atomic step, so of several concurrent writers exactly one
    /// gets true — the Dict works as a lock.
    /// </summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The key (1-1024 bytes).</param>
    /// <param name="value">The value (at most 1 MiB as JSON).</param>
    /// <param name="skipIfExists">Leave an existing entry alone.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Whether the value was written.</returns>
    /// <exception cref="RequestSizeException">The value is over 1 MiB as JSON.</exception>
    public async Task<bool> PutAsync<T>(string key, T value, bool skipIfExists = false, CancellationToken cancellationToken = default)
    {
        var json = JsonSerializer.SerializeToElement(value, App.SerializerOptions);
        var result = await RunAsync(() => _client.Dicts.PutEntryAsync(Name, key, json, skipIfExists ? true : null, cancellationToken), cancellationToken)
            .ConfigureAwait(false);
        return result.Written;
    }

    /// <summary>Sets every entry of <paramref name="entries"/> in one atomic step.</summary>
    /// <typeparam name="T">The values' type.</typeparam>
    /// <param name="entries">Keys and values.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task UpdateAsync<T>(IEnumerable<KeyValuePair<string, T>> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var body = new JsonObject();
        foreach (var (key, value) in entries)
        {
            body[key] = JsonSerializer.SerializeToNode(value, App.SerializerOptions);
        }
        var json = JsonSerializer.SerializeToElement(body, App.SerializerOptions);
        return RunAsync(() => _client.Dicts.UpdateAsync(Name, json, cancellationToken), cancellationToken);
    }

    /// <summary>Removes <paramref name="key"/> and returns its value.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="KeyNotFoundException">The key has no entry (as Python's <c>KeyError</c>).</exception>
    public async Task<T?> PopAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        var found = await RunAsync(() => _client.Dicts.PopEntryAsync(Name, key, cancellationToken), cancellationToken).ConfigureAwait(false);
        return found.Found ? Deserialize<T>(found.Value!.Value) : throw new KeyNotFoundException($"Dict '{Name}' has no key '{key}'.");
    }

    /// <summary>Whether <paramref name="key"/> has an entry.</summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<bool> ContainsAsync(string key, CancellationToken cancellationToken = default) =>
        (await RunAsync(() => _client.Dicts.ContainsAsync(Name, key, cancellationToken), cancellationToken).ConfigureAwait(false)).Contains;

    /// <summary>Number of entries, capped at 100,000 as Modal caps <c>len</c>.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<long> LenAsync(CancellationToken cancellationToken = default) =>
        (await RunAsync(() => _client.Dicts.LenAsync(Name, cancellationToken), cancellationToken).ConfigureAwait(false)).Length;

    /// <summary>Removes every entry.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task ClearAsync(CancellationToken cancellationToken = default) =>
        RunAsync(() => _client.Dicts.ClearAsync(Name, cancellationToken), cancellationToken);

    /// <summary>Every key, in no order, fetched page by page as the caller reads.</summary>
    /// <param name="cancellationToken">Stops the iteration.</param>
    public async IAsyncEnumerable<string> KeysAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entry in EntriesAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return entry.Key;
        }
    }

    /// <summary>Every value, in no order.</summary>
    /// <typeparam name="T">The values' type.</typeparam>
    /// <param name="cancellationToken">Stops the iteration.</param>
    public async IAsyncEnumerable<T?> ValuesAsync<T>([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entry in EntriesAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return Deserialize<T>(entry.Value);
        }
    }

    /// <summary>Every entry, in no order.</summary>
    /// <typeparam name="T">The values' type.</typeparam>
    /// <param name="cancellationToken">Stops the iteration.</param>
    public async IAsyncEnumerable<KeyValuePair<string, T?>> ItemsAsync<T>([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entry in EntriesAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new(entry.Key, Deserialize<T>(entry.Value));
        }
    }

    /// <summary>Deletes an ephemeral Dict; nothing for a named one.</summary>
    public ValueTask DisposeAsync() => _lease?.DisposeAsync() ?? ValueTask.CompletedTask;

    private async IAsyncEnumerable<DictEntry> EntriesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The server scans like HSCAN: an entry may come twice while the Dict is resized; each key is returned once.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var cursor = "0";
        do
        {
            var page = await RunAsync(() => _client.Dicts.ListEntriesAsync(Name, cursor, PageSize, cancellationToken), cancellationToken)
                .ConfigureAwait(false);
            foreach (var entry in page.Entries.Where(e => seen.Add(e.Key)))
            {
                yield return entry;
            }
            cursor = page.Cursor;
        }
        while (cursor != "0");
    }

    private const int PageSize = 500;

    private Task<T> RunAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken) => _handle.RunAsync(call, cancellationToken);

    private Task RunAsync(Func<Task> call, CancellationToken cancellationToken) => _handle.RunAsync(call, cancellationToken);

    private static T? Deserialize<T>(JsonElement json) => json.Deserialize<T>(App.SerializerOptions);
}
