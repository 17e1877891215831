using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Modal.Api.Infrastructure;
using Modal.Contracts.Maps;
using StackExchange.Redis;

namespace Modal.Api.Maps;

/// <summary>A map's progress as stored: how many inputs were queued, how many produced an output, and the total once known.</summary>
public sealed record MapRecord(
    string MapId, Guid WorkspaceId, Guid FunctionId, Guid AppId, string AppName, string FunctionName, DateTimeOffset CreatedAt,
    long InputsQueued, long Outputs, long Failures, long? Total, bool Cancelled)
{
    /// <summary>Every input has its output (the total is known and reached).</summary>
    public bool IsFinished => Total is { } total && Outputs >= total;

    /// <summary>Inputs sent but without an output yet: what back-pressure bounds.</summary>
    public long Outstanding => InputsQueued - Outputs;
}

/// <summary>A page of outputs as stored (each a JSON object), and the cursor to read on from.</summary>
public sealed record MapOutputPage(IReadOnlyList<string> OutputsJson, string Next);

/// <summary>
/// Map state in Redis: a hash of counters, a bitmap of the inputs that already have an output (so a slice run twice
/// after a redelivery records each output once), and a stream of outputs the client reads with a cursor. What the
/// client has read is trimmed as it reads on, so Redis holds only outputs in flight, whatever the map's size.
/// </summary>
public sealed class MapStore : IAsyncDisposable
{
    /// <summary>Largest map: its bitmap of recorded outputs stays at most 1.25 MB.</summary>
    public const long MaxInputsPerMap = 10_000_000;

    private const string KeyPrefix = "modal:map:";

    // Records outputs whose input has none yet; wakes readers when any was new. ARGV: channel, ttl, then (index, json, failed) triples.
    private const string RecordScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        local added, failed = 0, 0
        for i = 3, #ARGV, 3 do
          if redis.call('SETBIT', KEYS[2], ARGV[i], 1) == 0 then
            redis.call('XADD', KEYS[3], '*', 'o', ARGV[i + 1])
            added = added + 1
            if ARGV[i + 2] == '1' then failed = failed + 1 end
          end
        end
        if added > 0 then
          redis.call('HINCRBY', KEYS[1], 'outputs', added)
          if failed > 0 then redis.call('HINCRBY', KEYS[1], 'failures', failed) end
          redis.call('EXPIRE', KEYS[2], ARGV[2])
          redis.call('EXPIRE', KEYS[3], ARGV[2])
          redis.call('PUBLISH', ARGV[1], added)
        end
        return added
        """;

    private readonly IDatabase _redis;
    private readonly TimeSpan _retention;
    private readonly RedisWakeups _newOutputs;

    public MapStore(IConnectionMultiplexer redis, IOptions<ApiOptions> options)
    {
        _redis = redis.GetDatabase();
        _retention = options.Value.CallRetention;
        _newOutputs = new RedisWakeups(redis, "modal:map-outputs:");
    }

    // By app id: a `modal run` lists its own maps, not those of earlier runs or of a deployed app of the same name.
    private static string AppMapsKey(Guid appId) => $"modal:app:{appId:N}:maps";

    public async Task CreateAsync(
        string mapId, Guid workspaceId, Guid functionId, Guid appId, string appName, string functionName, DateTimeOffset createdAt)
    {
        var key = KeyPrefix + mapId;
        var appMaps = AppMapsKey(appId);
        var batch = _redis.CreateBatch();
        var tasks = new[]
        {
            batch.HashSetAsync(key,
            [
                new("workspace", workspaceId.ToString()), new("function", functionId.ToString()), new("appId", appId.ToString()),
                new("app", appName),
                new("fn", functionName), new("created", createdAt.ToUnixTimeMilliseconds()), new("inputs", 0), new("outputs", 0),
                new("failures", 0),
            ]),
            batch.KeyExpireAsync(key, _retention),
            batch.SortedSetAddAsync(appMaps, mapId, createdAt.ToUnixTimeMilliseconds()),
            // An app's list of maps only shows recent ones (for `modal run`'s progress); older entries fall away.
            batch.SortedSetRemoveRangeByScoreAsync(appMaps, 0, (createdAt - _retention).ToUnixTimeMilliseconds()),
            batch.KeyExpireAsync(appMaps, _retention),
        };
        batch.Execute();
        await Task.WhenAll(tasks);
    }

    public async Task<MapRecord?> GetAsync(string mapId)
    {
        var fields = await _redis.HashGetAllAsync(KeyPrefix + mapId);
        return fields.Length == 0 ? null : ToRecord(mapId, fields);
    }

    /// <summary>Counts inputs queued (after the broker confirmed them).</summary>
    public Task AddInputsAsync(string mapId, int count) => _redis.HashIncrementAsync(KeyPrefix + mapId, "inputs", count);

    /// <summary>Records how many inputs the map has in all: once outputs reach it, the map is finished.</summary>
    public Task CloseAsync(string mapId, long total) => _redis.HashSetAsync(KeyPrefix + mapId, "total", total);

    /// <summary>Marks the map cancelled: inputs not yet run are skipped (see <c>FunctionCallCancelled</c>).</summary>
    public Task CancelAsync(string mapId) => _redis.HashSetAsync(KeyPrefix + mapId, "cancelled", 1);

    /// <summary>Records the first output of each input; repeats (an input run again after a redelivery) are dropped.</summary>
    public async Task<long> RecordOutputsAsync(string mapId, IReadOnlyList<MapOutput> outputs)
    {
        var arguments = new RedisValue[2 + outputs.Count * 3];
        arguments[0] = _newOutputs.ChannelFor(mapId);
        arguments[1] = (long)_retention.TotalSeconds;
        for (var i = 0; i < outputs.Count; i++)
        {
            arguments[2 + i * 3] = outputs[i].Index;
            arguments[3 + i * 3] = OutputJson(outputs[i]);
            arguments[4 + i * 3] = outputs[i].Succeeded ? "0" : "1";
        }
        var key = KeyPrefix + mapId;
        return (long)await _redis.ScriptEvaluateAsync(RecordScript, [key, key + ":done", key + ":out"], arguments);
    }

    /// <summary>
    /// Up to <paramref name="limit"/> outputs after cursor <paramref name="after"/> ("0" from the start); everything up
    /// to <paramref name="after"/> is released, since the reader has it. Waits up to <paramref name="timeout"/> for one.
    /// </summary>
    public async Task<MapOutputPage> ReadOutputsAsync(string mapId, string after, int limit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var stream = KeyPrefix + mapId + ":out";
        if (after != "0")
        {
            // Entries before the cursor are the reader's now (MINID keeps the cursor's own entry, which is harmless).
            await _redis.ExecuteAsync("XTRIM", stream, "MINID", after);
        }
        await using var watch = timeout > TimeSpan.Zero ? await _newOutputs.WatchAsync(mapId) : null;
        var entries = await _redis.StreamRangeAsync(stream, minId: Exclusive(after), count: limit);
        if (entries.Length == 0 && watch is not null && await watch.WaitAsync(timeout, cancellationToken))
        {
            entries = await _redis.StreamRangeAsync(stream, minId: Exclusive(after), count: limit);
        }
        var outputs = entries.Select(entry => entry.Values[0].Value.ToString()).ToList();
        return new MapOutputPage(outputs, entries.Length == 0 ? after : entries[^1].Id.ToString());
    }

    /// <summary>The app's recent maps, newest first.</summary>
    public async Task<IReadOnlyList<MapRecord>> ListForAppAsync(Guid appId, int limit)
    {
        var ids = await _redis.SortedSetRangeByRankAsync(AppMapsKey(appId), 0, limit - 1, Order.Descending);
        var maps = await Task.WhenAll(ids.Select(id => GetAsync(id.ToString())));
        return maps.OfType<MapRecord>().ToList();
    }

    private static string Exclusive(string after) => after == "0" ? "-" : "(" + after;

    /// <summary>One output as the Api serves it, written once here so reads just concatenate stored JSON.</summary>
    private static string OutputJson(MapOutput output)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("index", output.Index);
            json.WriteBoolean("succeeded", output.Succeeded);
            if (output.Succeeded && output.ResultBlob is null)
            {
                json.WritePropertyName("result");
                json.WriteRawValue(string.IsNullOrEmpty(output.ResultJson) ? "null" : output.ResultJson, skipInputValidation: true);
            }
            if (output.ResultBlob is { } blob)
            {
                json.WriteString("resultBlob", blob);
            }
            if (!output.Succeeded)
            {
                json.WriteStartObject("error");
                json.WriteString("type", output.ExceptionType ?? "Unknown");
                json.WriteString("message", output.Message ?? "");
                json.WriteString("stackTrace", output.StackTrace);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static MapRecord ToRecord(string mapId, HashEntry[] fields)
    {
        var values = fields.ToDictionary(f => f.Name.ToString(), f => f.Value);
        long Number(string name) => values.TryGetValue(name, out var v) && v.HasValue ? (long)v : 0;
        return new MapRecord(
            mapId, Guid.Parse(values["workspace"].ToString()), Guid.Parse(values["function"].ToString()),
            values.TryGetValue("appId", out var appId) ? Guid.Parse(appId.ToString()) : Guid.Empty, values["app"].ToString(),
            values["fn"].ToString(), DateTimeOffset.FromUnixTimeMilliseconds(Number("created")), Number("inputs"), Number("outputs"),
            Number("failures"), values.TryGetValue("total", out var total) ? (long)total : null, Number("cancelled") == 1);
    }

    public ValueTask DisposeAsync() => _newOutputs.DisposeAsync();
}
