using System.Text.Json;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Calls;
using Modal.Rest;

namespace Modal;

/// <summary>
/// A handle to one call, from <c>SpawnAsync</c> or <see cref="FunctionCall.FromId{TResult}"/>: wait for its result, poll it, or cancel it.
/// The handle is only an id, so it can be stored and picked up later by another process.
/// </summary>
/// <typeparam name="TResult">The function's result type.</typeparam>
public sealed class FunctionCall<TResult>
{
    private readonly ModalClient _client;

    internal FunctionCall(ModalClient client, string id)
    {
        _client = client;
        Id = id;
    }

    /// <summary>The call id (<c>fc-…</c>).</summary>
    public string Id { get; }

    /// <summary>
    /// The call's result. <paramref name="timeout"/> null waits as long as it takes; <see cref="TimeSpan.Zero"/> looks
    /// once. A call still running when the timeout passes throws <see cref="TimeoutException"/> (the call goes on).
    /// </summary>
    /// <param name="timeout">How long to wait.</param>
    /// <param name="cancellationToken">Stops waiting (the call goes on).</param>
    /// <exception cref="RemoteFunctionException">The function threw.</exception>
    /// <exception cref="FunctionTimeoutException">The function ran past its own timeout.</exception>
    /// <exception cref="FunctionCallCancelledException">The call was cancelled.</exception>
    public async Task<TResult> GetAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        if (timeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), "A timeout must not be negative.");
        }
        var deadline = timeout is { } limit ? DateTimeOffset.UtcNow + limit : DateTimeOffset.MaxValue;
        while (true)
        {
            var remaining = deadline == DateTimeOffset.MaxValue ? ApiLimits.MaxLongPoll : deadline - DateTimeOffset.UtcNow;
            var wait = Math.Clamp(remaining.TotalSeconds, 0, ApiLimits.MaxLongPoll.TotalSeconds);
            var call = await _client.Apps.GetCallAsync(Id, wait, cancellationToken).ConfigureAwait(false);
            if (call.IsFinished)
            {
                return await UnwrapAsync(call, cancellationToken).ConfigureAwait(false);
            }
            if (DateTimeOffset.UtcNow >= deadline)
            {
                throw new TimeoutException($"Call '{Id}' has not finished (state {call.State}) within {timeout}.");
            }
        }
    }

    /// <summary>
    /// Cancels the call if it has not finished (a finished call keeps its result), as Modal's <c>cancel()</c>: an input
    /// still queued never runs; a running one sees <see cref="FunctionContext.CancellationToken"/> fire.
    /// </summary>
    /// <param name="terminateContainers">Also stop the container running it, for functions that ignore the token.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task CancelAsync(bool terminateContainers = false, CancellationToken cancellationToken = default) =>
        _client.Apps.CancelCallAsync(Id, terminateContainers, cancellationToken);

    /// <summary>Everything the call has printed so far (stdout and stderr of every attempt, in order).</summary>
    /// <param name="cancellationToken">Cancels the requests.</param>
    public async Task<IReadOnlyList<CallLogLine>> GetLogsAsync(CancellationToken cancellationToken = default)
    {
        var lines = new List<CallLogLine>();
        var from = 0L;
        while (true)
        {
            var page = await _client.Apps.GetCallLogsAsync(Id, from, cancellationToken).ConfigureAwait(false);
            if (page.Lines.Count == 0)
            {
                return lines;
            }
            lines.AddRange(page.Lines);
            from = page.Next;
        }
    }

    internal async Task<TResult> UnwrapAsync(CallInfo call, CancellationToken cancellationToken)
    {
        if (call.State == "Succeeded" && call.ResultBlob is { } blob)
        {
            // Results over 2 MiB are stored as a blob rather than inlined in the call's state.
            await using var json = await _client.Blobs.GetAsync(blob, cancellationToken).ConfigureAwait(false);
            return (await JsonSerializer.DeserializeAsync<TResult>(json, App.SerializerOptions, cancellationToken).ConfigureAwait(false))!;
        }
        return Unwrap(call);
    }

    private TResult Unwrap(CallInfo call) => call.State switch
    {
        "Succeeded" => call.Result is { } result ? result.Deserialize<TResult>(App.SerializerOptions)! : default!,
        "TimedOut" => throw new FunctionTimeoutException(Id, call.Error?.Message ?? "The function timed out."),
        "Cancelled" => throw new FunctionCallCancelledException(Id),
        _ => throw new RemoteFunctionException(Id, call.Error?.Type ?? "Unknown", call.Error?.Message ?? "", call.Error?.StackTrace),
    };
}

/// <summary>Calls by id, and waiting on several calls.</summary>
public static class FunctionCall
{
    /// <summary>Picks up a call by id, e.g. one spawned by another process, as Modal's <c>FunctionCall.from_id</c>.</summary>
    /// <typeparam name="TResult">The function's result type.</typeparam>
    /// <param name="client">The connection to the platform.</param>
    /// <param name="id">The call id.</param>
    public static FunctionCall<TResult> FromId<TResult>(ModalClient client, string id)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return new FunctionCall<TResult>(client, id);
    }

    /// <summary>Waits for every call and returns their results in order; the first failure throws, as Modal's gather.</summary>
    /// <typeparam name="TResult">The functions' result type.</typeparam>
    /// <param name="calls">The calls.</param>
    public static async Task<TResult[]> GatherAsync<TResult>(params FunctionCall<TResult>[] calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        var results = calls.Select(call => call.GetAsync()).ToList();
        var pending = new List<Task<TResult>>(results);
        while (pending.Count > 0)
        {
            var finished = await Task.WhenAny(pending).ConfigureAwait(false);
            // Awaiting a failed call throws its exception now, without waiting for the calls still running.
            await finished.ConfigureAwait(false);
            pending.Remove(finished);
        }
        return results.Select(task => task.Result).ToArray();
    }
}
