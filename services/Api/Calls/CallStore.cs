using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Modal.Api.Contracts.Calls;

namespace Modal.Api.Calls;

/// <summary>A call's state as stored in Redis.</summary>
public sealed record CallRecord(
    string FunctionCallId, Guid WorkspaceId, Guid FunctionId, string State, DateTimeOffset CreatedAt,
    string? ResultJson, string? ExceptionType, string? ExceptionMessage, string? ExceptionStackTrace, string? ResultBlob = null,
    string Origin = CallOrigins.Api)
{
    public bool IsTerminal => CallStates.IsTerminal(State);
}

/// <summary>Call states, persisted by name.</summary>
public static class CallStates
{
    public const string Queued = "Queued";
    public const string Running = "Running";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";
    public const string TimedOut = "TimedOut";
    public const string Cancelled = "Cancelled";

    public static bool IsTerminal(string state) => state is Succeeded or Failed or TimedOut or Cancelled;
}

/// <summary>
/// Per-call state and results in Redis (not PostgreSQL: the per-input path must not wait on it), kept for
/// <see cref="ApiOptions.CallRetention"/>. The first terminal result wins; later ones (redeliveries, late
/// timeouts) are ignored. Waiters on any Api replica wake through one Redis pub/sub pattern subscription.
/// </summary>
public sealed class CallStore : IAsyncDisposable
{
    private const string KeyPrefix = "modal:call:";
    private const string DoneChannelPrefix = "modal:call-done:";

    // Records a terminal state only if the call exists and is not terminal yet, then announces it.
    private const string CompleteScript = """
        local state = redis.call('HGET', KEYS[1], 'state')
        if not state or state == 'Succeeded' or state == 'Failed' or state == 'TimedOut' or state == 'Cancelled' then
          return 0
        end
        redis.call('HSET', KEYS[1], 'state', ARGV[1], 'result', ARGV[2], 'error_type', ARGV[3], 'error_message', ARGV[4], 'error_stack', ARGV[5], 'result_blob', ARGV[7])
        redis.call('PUBLISH', ARGV[6], ARGV[1])
        return 1
        """;

    // Moves a call to a non-terminal state (Running) unless it already finished.
    private const string AdvanceScript = """
        local state = redis.call('HGET', KEYS[1], 'state')
        if not state or state == 'Succeeded' or state == 'Failed' or state == 'TimedOut' or state == 'Cancelled' then
          return 0
        end
        redis.call('HSET', KEYS[1], 'state', ARGV[1])
        return 1
        """;

    private readonly IDatabase _redis;
    private readonly TimeSpan _retention;
    private readonly Infrastructure.RedisWakeups _done;

    public CallStore(IConnectionMultiplexer redis, IOptions<ApiOptions> options)
    {
        _redis = redis.GetDatabase();
        _retention = options.Value.CallRetention;
        _done = new Infrastructure.RedisWakeups(redis, DoneChannelPrefix);
    }

    public async Task CreateAsync(string callId, Guid workspaceId, Guid functionId, DateTimeOffset createdAt, string origin = CallOrigins.Api)
    {
        var key = KeyPrefix + callId;
        var batch = _redis.CreateBatch();
        var set = batch.HashSetAsync(key,
        [
            new("state", CallStates.Queued),
            new("workspace", workspaceId.ToString()),
            new("function", functionId.ToString()),
            new("created", createdAt.ToUnixTimeMilliseconds()),
            new("origin", origin),
        ]);
        var expire = batch.KeyExpireAsync(key, _retention);
        batch.Execute();
        await Task.WhenAll(set, expire);
    }

    public async Task<CallRecord?> GetAsync(string callId)
    {
        var fields = await _redis.HashGetAllAsync(KeyPrefix + callId);
        if (fields.Length == 0)
        {
            return null;
        }
        var values = fields.ToDictionary(f => f.Name.ToString(), f => f.Value);
        string? Text(string name) => values.TryGetValue(name, out var v) && v.HasValue && !v.IsNullOrEmpty ? v.ToString() : null;
        return new CallRecord(
            callId,
            Guid.Parse(Text("workspace")!),
            Guid.Parse(Text("function")!),
            Text("state")!,
            DateTimeOffset.FromUnixTimeMilliseconds((long)values["created"]),
            Text("result"),
            Text("error_type"),
            Text("error_message"),
            Text("error_stack"),
            Text("result_blob"),
            Text("origin") ?? CallOrigins.Api);
    }

    /// <summary>Records a terminal state; false when the call already had one (or is unknown/expired).</summary>
    public async Task<bool> CompleteAsync(
        string callId, string state, string? resultJson = null, string? exceptionType = null, string? message = null, string? stackTrace = null,
        string? resultBlob = null)
    {
        if (!CallStates.IsTerminal(state))
        {
            throw new ArgumentException($"'{state}' is not a terminal call state.", nameof(state));
        }
        var recorded = await _redis.ScriptEvaluateAsync(CompleteScript, [KeyPrefix + callId],
            [state, resultJson ?? "", exceptionType ?? "", message ?? "", stackTrace ?? "", _done.ChannelFor(callId), resultBlob ?? ""]);
        return (long)recorded == 1;
    }

    /// <summary>Most lines kept per call (the latest ones).</summary>
    public const int MaxLogLines = 10_000;

    /// <summary>Appends printed lines to the call's log (kept as long as the call, at most <see cref="MaxLogLines"/>).</summary>
    public async Task AppendLogsAsync(string callId, IEnumerable<CallLogLine> lines)
    {
        var key = KeyPrefix + callId + ":logs";
        var values = lines.Select(line => (RedisValue)System.Text.Json.JsonSerializer.Serialize(line, LogJson)).ToArray();
        if (values.Length == 0)
        {
            return;
        }
        var batch = _redis.CreateBatch();
        var push = batch.ListRightPushAsync(key, values);
        var trim = batch.ListTrimAsync(key, -MaxLogLines, -1);
        var expire = batch.KeyExpireAsync(key, _retention);
        batch.Execute();
        await Task.WhenAll(push, trim, expire);
    }

    /// <summary>The call's log lines from position <paramref name="from"/> on (at most <paramref name="limit"/>).</summary>
    public async Task<IReadOnlyList<CallLogLine>> GetLogsAsync(string callId, long from, int limit)
    {
        var values = await _redis.ListRangeAsync(KeyPrefix + callId + ":logs", from, from + limit - 1);
        return values.Select(value => System.Text.Json.JsonSerializer.Deserialize<CallLogLine>(value.ToString(), LogJson)!).ToList();
    }

    private static readonly System.Text.Json.JsonSerializerOptions LogJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    public async Task<bool> MarkRunningAsync(string callId) =>
        (long)await _redis.ScriptEvaluateAsync(AdvanceScript, [KeyPrefix + callId], [CallStates.Running]) == 1;

    /// <summary>
    /// The call once it is terminal, or as it stands when <paramref name="timeout"/> passes (zero: look once).
    /// Null when the call is unknown.
    /// </summary>
    public async Task<CallRecord?> WaitAsync(string callId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return await GetAsync(callId);
        }
        await using var watch = await WatchAsync(callId);
        // Read only once the watch is registered: a completion in between is not missed.
        var current = await GetAsync(callId);
        return current is null || current.IsTerminal ? current : await watch.WaitAsync(timeout, cancellationToken);
    }

    /// <summary>
    /// Starts watching a call for its end. Taken before the input is sent, it cannot miss a completion however fast
    /// the runner is, so the waiter needs no first read.
    /// </summary>
    public async Task<CallWatch> WatchAsync(string callId) => new(this, callId, await _done.WatchAsync(callId));

    /// <summary>A registered wait for one call's end (<see cref="WatchAsync"/>).</summary>
    public sealed class CallWatch(CallStore store, string callId, Infrastructure.RedisWakeups.Watch done) : IAsyncDisposable
    {
        /// <summary>The call once it is terminal, or as it stands when <paramref name="timeout"/> passes.</summary>
        public async Task<CallRecord?> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            await done.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return await store.GetAsync(callId);
        }

        public ValueTask DisposeAsync() => done.DisposeAsync();
    }

    public ValueTask DisposeAsync() => _done.DisposeAsync();
}
