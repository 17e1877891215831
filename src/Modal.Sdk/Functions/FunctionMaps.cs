using System.Runtime.CompilerServices;
using System.Text.Json;
using Modal.Api.Contracts.Maps;

namespace Modal;

public sealed partial class Function<T1, TResult>
{
    /// <summary>
    /// Runs the function over every input in parallel on the platform, as Modal's <c>f.map()</c>: results stream back
    /// while inputs are still being sent, in input order (or as they finish with <paramref name="orderOutputs"/> false).
    /// The first failure throws and cancels the inputs not yet run.
    /// </summary>
    /// <param name="inputs">The inputs; read lazily, so a huge or endless sequence is fine.</param>
    /// <param name="orderOutputs">Results in input order (default), or as they finish.</param>
    /// <param name="cancellationToken">Stops the map (inputs not yet run are cancelled).</param>
    public IAsyncEnumerable<TResult> MapAsync(IEnumerable<T1> inputs, bool orderOutputs = true, CancellationToken cancellationToken = default) =>
        MapAsync(MapInvoker.AsAsync(inputs), orderOutputs, cancellationToken);

    /// <inheritdoc cref="MapAsync(IEnumerable{T1}, bool, CancellationToken)"/>
    public IAsyncEnumerable<TResult> MapAsync(IAsyncEnumerable<T1> inputs, bool orderOutputs = true, CancellationToken cancellationToken = default) =>
        FunctionMaps.Values(MapAsync(inputs, new MapOptions { OrderOutputs = orderOutputs }, cancellationToken), cancellationToken);

    /// <summary>
    /// Runs the function over every input, with each result's input position, and failures returned in place with
    /// <see cref="MapOptions.ReturnExceptions"/> (Modal's <c>return_exceptions=True</c>).
    /// </summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="options">Ordering, failure handling and how many inputs may be in flight.</param>
    /// <param name="cancellationToken">Stops the map (inputs not yet run are cancelled).</param>
    public IAsyncEnumerable<MapResult<TResult>> MapAsync(IEnumerable<T1> inputs, MapOptions options, CancellationToken cancellationToken = default) =>
        MapAsync(MapInvoker.AsAsync(inputs), options, cancellationToken);

    /// <inheritdoc cref="MapAsync(IEnumerable{T1}, MapOptions, CancellationToken)"/>
    public IAsyncEnumerable<MapResult<TResult>> MapAsync(IAsyncEnumerable<T1> inputs, MapOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        return MapInvoker.RunAsync<TResult>(Definition.App.Client, Definition.App.Reference, Definition.Name,
            MapInvoker.Arguments(inputs, input => RemoteInvoker.ArgumentsOf(Definition, [input]), CancellationToken.None), options, cancellationToken);
    }

    /// <summary>Runs the function over every input and discards the results, as Modal's <c>f.for_each()</c>; the first failure throws.</summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="cancellationToken">Stops the map.</param>
    public Task ForEachAsync(IEnumerable<T1> inputs, CancellationToken cancellationToken = default) =>
        FunctionMaps.DrainAsync(MapAsync(inputs, new MapOptions { OrderOutputs = false }, cancellationToken));

    /// <summary>
    /// Queues the function over every input and returns once all are sent, as Modal's <c>f.spawn_map()</c>; the
    /// returned handle reads the outputs later, from this process or another.
    /// </summary>
    /// <param name="inputs">The inputs.</param>
    /// <param name="cancellationToken">Stops sending.</param>
    public async Task<MapCall<TResult>> SpawnMapAsync(IEnumerable<T1> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var mapId = await MapInvoker.SpawnAsync(Definition.App.Client, Definition.App.Reference, Definition.Name,
            MapInvoker.Arguments(MapInvoker.AsAsync(inputs), input => RemoteInvoker.ArgumentsOf(Definition, [input]), CancellationToken.None), cancellationToken).ConfigureAwait(false);
        return new MapCall<TResult>(Definition.App.Client, mapId);
    }
}

public sealed partial class Function<T1, T2, TResult>
{
    /// <summary>
    /// Runs the function over every pair of arguments, unpacking each tuple into the parameters, as Modal's
    /// <c>f.starmap()</c>. Results come in input order (or as they finish with <paramref name="orderOutputs"/> false).
    /// </summary>
    /// <param name="inputs">The argument pairs.</param>
    /// <param name="orderOutputs">Results in input order (default), or as they finish.</param>
    /// <param name="cancellationToken">Stops the map.</param>
    public IAsyncEnumerable<TResult> StarMapAsync(IEnumerable<(T1, T2)> inputs, bool orderOutputs = true, CancellationToken cancellationToken = default) =>
        FunctionMaps.Values(StarMapAsync(MapInvoker.AsAsync(inputs), new MapOptions { OrderOutputs = orderOutputs }, cancellationToken), cancellationToken);

    /// <summary>Runs the function over every pair of arguments with each result's position, failures in place with <see cref="MapOptions.ReturnExceptions"/>.</summary>
    /// <param name="inputs">The argument pairs.</param>
    /// <param name="options">Ordering, failure handling and how many inputs may be in flight.</param>
    /// <param name="cancellationToken">Stops the map.</param>
    public IAsyncEnumerable<MapResult<TResult>> StarMapAsync(IAsyncEnumerable<(T1, T2)> inputs, MapOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(options);
        return MapInvoker.RunAsync<TResult>(Definition.App.Client, Definition.App.Reference, Definition.Name,
            MapInvoker.Arguments(inputs, pair => RemoteInvoker.ArgumentsOf(Definition, [pair.Item1, pair.Item2]), CancellationToken.None), options, cancellationToken);
    }

    /// <summary>Runs the function over the two sequences side by side (stopping at the shorter), as Modal's <c>f.map(xs, ys)</c>.</summary>
    /// <param name="first">The first arguments.</param>
    /// <param name="second">The second arguments.</param>
    /// <param name="orderOutputs">Results in input order (default), or as they finish.</param>
    /// <param name="cancellationToken">Stops the map.</param>
    public IAsyncEnumerable<TResult> MapAsync(IEnumerable<T1> first, IEnumerable<T2> second, bool orderOutputs = true, CancellationToken cancellationToken = default) =>
        StarMapAsync(first.Zip(second), orderOutputs, cancellationToken);

    /// <summary>Runs the function over every pair and discards the results; the first failure throws.</summary>
    /// <param name="inputs">The argument pairs.</param>
    /// <param name="cancellationToken">Stops the map.</param>
    public Task ForEachAsync(IEnumerable<(T1, T2)> inputs, CancellationToken cancellationToken = default) =>
        FunctionMaps.DrainAsync(StarMapAsync(MapInvoker.AsAsync(inputs), new MapOptions { OrderOutputs = false }, cancellationToken));

    /// <summary>Queues the function over every pair and returns once all are sent (<c>spawn_map</c>).</summary>
    /// <param name="inputs">The argument pairs.</param>
    /// <param name="cancellationToken">Stops sending.</param>
    public async Task<MapCall<TResult>> SpawnMapAsync(IEnumerable<(T1, T2)> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var mapId = await MapInvoker.SpawnAsync(Definition.App.Client, Definition.App.Reference, Definition.Name,
            MapInvoker.Arguments(MapInvoker.AsAsync(inputs), pair => RemoteInvoker.ArgumentsOf(Definition, [pair.Item1, pair.Item2]), CancellationToken.None),
            cancellationToken).ConfigureAwait(false);
        return new MapCall<TResult>(Definition.App.Client, mapId);
    }
}

/// <summary>
/// A map started with <c>SpawnMapAsync</c>: its progress, its outputs (read once, as they are released when read), and
/// cancelling it. Only an id, so another process can pick it up with <see cref="MapCall.FromId{TResult}"/>.
/// </summary>
/// <typeparam name="TResult">The function's result type.</typeparam>
public sealed class MapCall<TResult>
{
    private readonly ModalClient _client;

    internal MapCall(ModalClient client, string id)
    {
        _client = client;
        Id = id;
    }

    /// <summary>The map's id (<c>fc-…</c>).</summary>
    public string Id { get; }

    /// <summary>How many inputs were queued, have outputs, and failed.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<MapInfo> GetProgressAsync(CancellationToken cancellationToken = default) => _client.Maps.GetAsync(Id, cancellationToken);

    /// <summary>
    /// The map's outputs as they finish (each with its input position; failures in place), until every input has one.
    /// Outputs are handed out once: reading them releases them on the server.
    /// </summary>
    /// <param name="cancellationToken">Stops reading (the map goes on).</param>
    public IAsyncEnumerable<MapResult<TResult>> GetOutputsAsync(CancellationToken cancellationToken = default) =>
        MapInvoker.ReadOutputsAsync<TResult>(_client, Id, sender: null, cancellationToken);

    /// <summary>Cancels the map: inputs not yet run are skipped.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task CancelAsync(CancellationToken cancellationToken = default) => _client.Maps.CancelAsync(Id, cancellationToken);
}

/// <summary>Maps by id.</summary>
public static class MapCall
{
    /// <summary>Picks up a spawned map by id.</summary>
    /// <typeparam name="TResult">The function's result type.</typeparam>
    /// <param name="client">The connection.</param>
    /// <param name="id">The map's id.</param>
    public static MapCall<TResult> FromId<TResult>(ModalClient client, string id)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return new MapCall<TResult>(client, id);
    }
}

internal static class FunctionMaps
{
    /// <summary>The deployed function behind a typed handle (its app's name and client).</summary>
    public static RemoteFunction Deployed(FunctionDefinition definition) => new(definition.App.Client, definition.App.Reference, definition.Name);

    public static async IAsyncEnumerable<TResult> Values<TResult>(
        IAsyncEnumerable<MapResult<TResult>> results, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var result in results.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return result.Value;
        }
    }

    public static async Task DrainAsync<TResult>(IAsyncEnumerable<MapResult<TResult>> results)
    {
        await foreach (var _ in results.ConfigureAwait(false))
        {
        }
    }
}
