using System.Globalization;
using Microsoft.Extensions.Options;
using Modal.Storage.Objects;
using StackExchange.Redis;

namespace Modal.Storage.Dicts;

/// <summary>One page of a Dict's entries as stored (values as their JSON text); <see cref="Cursor"/> "0" means there are no more.</summary>
public sealed record DictScan(string Cursor, IReadOnlyList<(string Key, RawJson Value)> Entries);

/// <summary>
/// Dict entries in Redis: a hash of JSON values (<c>…:h</c>) and a sorted set of each key's last read or write in
/// Redis server milliseconds (<c>…:t</c>). Redis 7.0 has no per-field expiry (HEXPIRE came in 7.4), so an entry
/// counts as expired once its time is older than <see cref="StorageOptions.DictEntryTtl"/>: every operation ignores
/// such entries, writes sweep up to 100 of them, and both keys expire as a whole after the TTL without any access.
/// A key per entry would expire natively but makes clear, len and iteration walk the keyspace or a second index anyway.
/// </summary>
public sealed class DictStore(ObjectRegistry registry, IOptions<StorageOptions> options)
{
    // After the existence check: KEYS[3] = values, KEYS[4] = times, ARGV[2] = TTL ms; the op's own ARGV follow.
    private const string Header = """
        local h, t, ttl = KEYS[3], KEYS[4], tonumber(ARGV[2])
        local clock = redis.call('TIME')
        local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        local cutoff = now - ttl
        local function live(key)
          local seen = redis.call('ZSCORE', t, key)
          return seen and tonumber(seen) >= cutoff
        end
        local function touch(key)
          redis.call('ZADD', t, now, key)
          redis.call('PEXPIRE', h, ttl)
          redis.call('PEXPIRE', t, ttl)
        end
        local function sweep()
          local stale = redis.call('ZRANGEBYSCORE', t, '-inf', '(' .. cutoff, 'LIMIT', 0, 100)
          if #stale > 0 then
            redis.call('HDEL', h, unpack(stale))
            redis.call('ZREM', t, unpack(stale))
          end
        end

        """;

    // ARGV[3] = key.
    private const string GetScript = Header + """
        if not live(ARGV[3]) then
          return false
        end
        touch(ARGV[3])
        return redis.call('HGET', h, ARGV[3])
        """;

    // ARGV[3] = '1' to skip when the (single) key is live, ARGV[4…] = key, value pairs. Returns how many were written.
    private const string PutScript = Header + """
        sweep()
        if ARGV[3] == '1' and live(ARGV[4]) then
          return 0
        end
        for i = 4, #ARGV, 2 do
          redis.call('HSET', h, ARGV[i], ARGV[i + 1])
          touch(ARGV[i])
        end
        return (#ARGV - 2) / 2
        """;

    // ARGV[3] = key.
    private const string PopScript = Header + """
        if not live(ARGV[3]) then
          return false
        end
        local value = redis.call('HGET', h, ARGV[3])
        redis.call('HDEL', h, ARGV[3])
        redis.call('ZREM', t, ARGV[3])
        return value
        """;

    private const string ContainsScript = Header + "return live(ARGV[3]) and 1 or 0";

    private const string LenScript = Header + "return redis.call('ZCOUNT', t, cutoff, '+inf')";

    private const string ClearScript = Header + "return redis.call('DEL', h, t)";

    // ARGV[3] = cursor, ARGV[4] = count. Returns the next cursor, then key, value pairs of live entries.
    private const string ScanScript = Header + """
        local page = redis.call('HSCAN', h, ARGV[3], 'COUNT', ARGV[4])
        local out = { page[1] }
        local fields = page[2]
        for i = 1, #fields, 2 do
          if live(fields[i]) then
            out[#out + 1] = fields[i]
            out[#out + 1] = fields[i + 1]
          end
        end
        return out
        """;

    private readonly long _ttlMs = (long)options.Value.DictEntryTtl.TotalMilliseconds;

    /// <summary>The entry's value (and its TTL restarts), or null when there is none.</summary>
    public async Task<RawJson?> GetAsync(ObjectRef dict, string key, CancellationToken cancellationToken) =>
        Value(await RunAsync(dict, GetScript, [key], cancellationToken));

    /// <summary>Writes the entries; with <paramref name="skipIfExists"/> (one entry only) nothing is written over a live entry. Returns how many were written.</summary>
    public async Task<int> PutAsync(ObjectRef dict, IReadOnlyList<(string Key, RawJson Value)> entries, bool skipIfExists, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return 0;
        }
        RedisValue[] arguments = [skipIfExists ? "1" : "0", .. entries.SelectMany(e => new RedisValue[] { e.Key, e.Value.Text })];
        return (int)await RunAsync(dict, PutScript, arguments, cancellationToken);
    }

    public async Task<RawJson?> PopAsync(ObjectRef dict, string key, CancellationToken cancellationToken) =>
        Value(await RunAsync(dict, PopScript, [key], cancellationToken));

    public async Task<bool> ContainsAsync(ObjectRef dict, string key, CancellationToken cancellationToken) =>
        (long)await RunAsync(dict, ContainsScript, [key], cancellationToken) == 1;

    /// <summary>Number of live entries, capped at <see cref="StorageLimits.MaxDictLength"/> as Modal caps <c>len</c>.</summary>
    public async Task<long> LenAsync(ObjectRef dict, CancellationToken cancellationToken) =>
        Math.Min((long)await RunAsync(dict, LenScript, [], cancellationToken), StorageLimits.MaxDictLength);

    public async Task ClearAsync(ObjectRef dict, CancellationToken cancellationToken) =>
        await RunAsync(dict, ClearScript, [], cancellationToken);

    /// <summary>
    /// One page of live entries, in no order, from <paramref name="cursor"/> ("0" starts). As HSCAN: every entry
    /// present for the whole iteration is returned at least once; a page may be empty before the end.
    /// </summary>
    public async Task<DictScan> ScanAsync(ObjectRef dict, string cursor, int count, CancellationToken cancellationToken)
    {
        var page = (RedisResult[])(await RunAsync(dict, ScanScript, [cursor, count], cancellationToken))!;
        var entries = new List<(string Key, RawJson Value)>((page.Length - 1) / 2);
        for (var i = 1; i < page.Length; i += 2)
        {
            entries.Add((page[i].ToString(), new RawJson(page[i + 1].ToString())));
        }
        return new DictScan(page[0].ToString(), entries);
    }

    public static bool IsValidCursor(string cursor) => ulong.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    private Task<RedisResult> RunAsync(ObjectRef dict, string script, RedisValue[] arguments, CancellationToken cancellationToken) =>
        registry.EvaluateAsync(dict, script, [dict.Data("h"), dict.Data("t")], [_ttlMs, .. arguments], cancellationToken);

    private static RawJson? Value(RedisResult result) => result.IsNull ? null : new RawJson(result.ToString());
}
