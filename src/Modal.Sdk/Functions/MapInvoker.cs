using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Maps;
using Modal.Rest;

namespace Modal;

/// <summary>
/// Runs a map: inputs go out in pages while outputs stream back, with at most <see cref="MapOptions.MaxInputsInFlight"/>
/// inputs unanswered, so memory stays bounded however many inputs there are. Leaving early (a failure, a cancelled
/// enumeration) cancels the inputs not yet run.
/// </summary>
internal static class MapInvoker
{
    /// <summary>A page of outputs smaller than this makes the reader pause <see cref="TrickleDelay"/> before asking again.</summary>
    private const int SmallPage = 64;

    private static readonly TimeSpan TrickleDelay = TimeSpan.FromMilliseconds(20);

    /// <summary>The outputs of <paramref name="arguments"/>, as <paramref name="options"/> orders them.</summary>
    public static async IAsyncEnumerable<MapResult<TResult>> RunAsync<TResult>(
        ModalClient client, string app, string function, IAsyncEnumerable<JsonElement> arguments, MapOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        options.Validate();
        var map = await client.Maps.CreateAsync(app, function, cancellationToken).ConfigureAwait(false);
        var windowSize = Math.Min(options.MaxInputsInFlight, (int)Math.Min(int.MaxValue, map.MaxOutstandingInputs));
        var inFlight = new SemaphoreSlim(windowSize);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sender = SendAllAsync(client, map, arguments, inFlight, windowSize, stop.Token);
        var finished = false;
        try
        {
            var next = 0L;
            var early = new Dictionary<long, MapResult<TResult>>();
            await foreach (var output in ReadOutputsAsync<TResult>(client, map.MapId, sender, stop.Token).ConfigureAwait(false))
            {
                inFlight.Release();
                if (!options.OrderOutputs)
                {
                    yield return Checked(output, options);
                    continue;
                }
                early[output.Index] = output;
                while (early.Remove(next, out var due))
                {
                    next++;
                    yield return Checked(due, options);
                }
            }
            await sender.ConfigureAwait(false);
            finished = true;
        }
        finally
        {
            if (!finished)
            {
                await stop.CancelAsync().ConfigureAwait(false);
                await sender.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                // Whatever has not run yet need not: the caller is gone or has its answer.
                await client.Maps.CancelAsync(map.MapId, CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends every input without reading outputs (spawn_map): the server's own back-pressure paces it.</summary>
    public static async Task<string> SpawnAsync(ModalClient client, string app, string function, IAsyncEnumerable<JsonElement> arguments, CancellationToken cancellationToken)
    {
        var map = await client.Maps.CreateAsync(app, function, cancellationToken).ConfigureAwait(false);
        await SendAllAsync(client, map, arguments, inFlight: null, windowSize: 0, cancellationToken).ConfigureAwait(false);
        return map.MapId;
    }

    /// <summary>Sends the inputs in pages, then the total. Returns the number of inputs.</summary>
    private static async Task<long> SendAllAsync(
        ModalClient client, MapCreated map, IAsyncEnumerable<JsonElement> arguments, SemaphoreSlim? inFlight, int windowSize,
        CancellationToken cancellationToken)
    {
        var page = new List<MapInputItem>(map.MaxInputsPerRequest);
        var count = 0L;
        // Window slots taken but not yet used. Once the window is full, slots are taken back a page's worth at a time:
        // taking each as one output frees it sent pages of one input, and every page costs the Api and the broker.
        var credits = 0;
        await using var inputs = arguments.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            // A source that makes us wait (an async stream) does not hold back the inputs already in hand.
            var moved = inputs.MoveNextAsync();
            if (!moved.IsCompleted && page.Count > 0)
            {
                await SendPageAsync(client, map.MapId, page, cancellationToken).ConfigureAwait(false);
            }
            if (!await moved.ConfigureAwait(false))
            {
                break;
            }
            if (inFlight is not null && credits == 0 && !inFlight.Wait(0, cancellationToken))
            {
                // The window is full: what is in hand goes out first, or its outputs would never free the window.
                await SendPageAsync(client, map.MapId, page, cancellationToken).ConfigureAwait(false);
                var refill = Math.Max(1, Math.Min(map.MaxInputsPerRequest, windowSize / 4));
                for (var taken = 0; taken < refill; taken++)
                {
                    await inFlight.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                credits = refill;
            }
            if (credits > 0)
            {
                credits--;
            }
            page.Add(await ToInputAsync(client, count++, inputs.Current, cancellationToken).ConfigureAwait(false));
            if (page.Count == map.MaxInputsPerRequest)
            {
                await SendPageAsync(client, map.MapId, page, cancellationToken).ConfigureAwait(false);
            }
        }
        await SendPageAsync(client, map.MapId, page, cancellationToken).ConfigureAwait(false);
        await client.Maps.CloseAsync(map.MapId, new CloseMapRequest(count), cancellationToken).ConfigureAwait(false);
        return count;
    }

    private static async Task SendPageAsync(ModalClient client, string mapId, List<MapInputItem> page, CancellationToken cancellationToken)
    {
        if (page.Count == 0)
        {
            return;
        }
        var request = new MapInputsRequest(page.ToArray());
        page.Clear();
        while (true)
        {
            try
            {
                await client.Maps.PutInputsAsync(mapId, request, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Refit.ApiException e) when ((int)e.StatusCode is 429 or 503)
            {
                // The map has as many inputs in flight as the server allows (or the broker hiccupped): wait, then resend the page.
                var delay = e.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<MapInputItem> ToInputAsync(ModalClient client, long index, JsonElement arguments, CancellationToken cancellationToken)
    {
        var blob = await RemoteInvoker.BlobIfLargeAsync(client, arguments, cancellationToken).ConfigureAwait(false);
        return blob is null ? new MapInputItem(index) { Arguments = arguments } : new MapInputItem(index) { ArgumentsBlob = blob };
    }

    /// <summary>Every output of the map, as recorded, until the sender has sent all inputs and each has its output.</summary>
    public static async IAsyncEnumerable<MapResult<TResult>> ReadOutputsAsync<TResult>(
        ModalClient client, string mapId, Task<long>? sender, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var cursor = "0";
        var received = 0L;
        while (true)
        {
            long? total = sender is { IsCompletedSuccessfully: true } ? sender.Result : null;
            if (total is { } all && received >= all)
            {
                yield break;
            }
            if (sender is { IsFaulted: true })
            {
                await sender.ConfigureAwait(false); // Sending failed: surface why.
            }
            // While inputs are still being sent, wait briefly, so the end of sending (perhaps of nothing) is noticed soon.
            var wait = sender is { IsCompleted: false } ? 1 : ApiLimits.MaxLongPoll.TotalSeconds;
            var page = await client.Maps.GetOutputsAsync(mapId, cursor, wait, cancellationToken).ConfigureAwait(false);
            cursor = page.Next;
            foreach (var output in page.Outputs)
            {
                received++;
                yield return await ToResultAsync<TResult>(client, mapId, output, cancellationToken).ConfigureAwait(false);
            }
            if (sender is null && page.Finished && received >= page.OutputsRecorded)
            {
                yield break;
            }
            if (page.Outputs.Count < SmallPage && !page.Finished)
            {
                // Outputs trickle in: let a few gather rather than ask for each one (a map's reads cost the Api per request).
                await Task.Delay(TrickleDelay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task<MapResult<TResult>> ToResultAsync<TResult>(ModalClient client, string mapId, MapOutputItem output, CancellationToken cancellationToken)
    {
        if (!output.Succeeded)
        {
            var error = output.Error;
            Exception failure = error?.Type == RemoteErrorTypes.FunctionTimeout
                ? new FunctionTimeoutException(mapId, error.Message)
                : new RemoteFunctionException(mapId, error?.Type ?? "Unknown", error?.Message ?? "", error?.StackTrace);
            return new MapResult<TResult>(output.Index, default!, failure);
        }
        if (output.ResultBlob is { } blob)
        {
            await using var json = await client.Blobs.GetAsync(blob, cancellationToken).ConfigureAwait(false);
            return new MapResult<TResult>(output.Index,
                (await JsonSerializer.DeserializeAsync<TResult>(json, App.SerializerOptions, cancellationToken).ConfigureAwait(false))!, null);
        }
        var value = output.Result is { ValueKind: not JsonValueKind.Null } result ? result.Deserialize<TResult>(App.SerializerOptions)! : default!;
        return new MapResult<TResult>(output.Index, value, null);
    }

    private static MapResult<TResult> Checked<TResult>(MapResult<TResult> result, MapOptions options) =>
        result.Exception is { } failure && !options.ReturnExceptions
            ? throw failure
            : result;

    /// <summary>Wraps a synchronous sequence of inputs as an async one (the map pages it either way).</summary>
    public static async IAsyncEnumerable<T> AsAsync<T>(IEnumerable<T> items)
    {
        foreach (var item in items)
        {
            yield return item;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <summary>Maps each item of a sequence to its wire arguments.</summary>
    public static async IAsyncEnumerable<JsonElement> Arguments<T>(IAsyncEnumerable<T> items, Func<T, JsonElement> toArguments,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return toArguments(item);
        }
    }
}
