using Microsoft.Extensions.Options;
using Modal.Api.Contracts.Objects;
using StackExchange.Redis;

namespace Modal.Storage.Objects;

/// <summary>
/// The named Dicts, Queues and Volumes of each workspace: creation, lookup, listing, deletion and the heartbeat of ephemeral
/// ones, plus <see cref="EvaluateAsync"/>, through which every data operation runs its Lua script behind the same
/// existence check. Redis is the only store (AOF on); the scripts make each operation atomic on one Redis, and
/// build some keys inside Lua, which is fine on one Redis but not on Redis Cluster.
/// </summary>
public sealed class ObjectRegistry(IConnectionMultiplexer redis, IOptions<StorageOptions> options, TimeProvider clock)
{
    // Prepended to every data script. KEYS[1] = registry, KEYS[2] = alive, ARGV[1] = name. An ephemeral object
    // (meta starts with 'e', byte 101) exists only while its heartbeat key does.
    private const string RequireLive = """
        local meta = redis.call('HGET', KEYS[1], ARGV[1])
        if not meta or (string.byte(meta, 1) == 101 and redis.call('EXISTS', KEYS[2]) == 0) then
          return redis.error_reply('NOTFOUND no such object')
        end

        """;

    // Removes every data key of an object: a Dict's hash and times, a Queue's partitions.
    private const string Purge = """
        local function purge(prefix)
          for _, partition in ipairs(redis.call('SMEMBERS', prefix .. 'parts')) do
            redis.call('DEL', prefix .. 'p:' .. partition)
          end
          redis.call('DEL', prefix .. 'parts', prefix .. 'p:', prefix .. 'h', prefix .. 't', prefix .. 'head', prefix .. 'alive')
        end

        """;

    // ARGV[2] = meta of a new object, ARGV[3] = heartbeat ms, ARGV[4] = '1' to create when missing, ARGV[5] = prefix.
    private const string EnsureScript = Purge + """
        local meta = redis.call('HGET', KEYS[1], ARGV[1])
        if meta and (string.byte(meta, 1) ~= 101 or redis.call('EXISTS', KEYS[2]) == 1) then
          return meta
        end
        if ARGV[4] ~= '1' then
          return redis.error_reply('NOTFOUND no such object')
        end
        -- What is left of a dead ephemeral object of this name must not show through the new one.
        purge(ARGV[5])
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        if string.byte(ARGV[2], 1) == 101 then
          redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
        end
        return ARGV[2]
        """;

    // ARGV[2] = prefix, ARGV[3] = '1' to delete only a dead ephemeral object (the listing's clean-up, which must not
    // remove one re-created in between). A dead ephemeral object is cleaned up but still reported missing.
    private const string DeleteScript = Purge + """
        local meta = redis.call('HGET', KEYS[1], ARGV[1])
        if not meta then
          return redis.error_reply('NOTFOUND no such object')
        end
        local live = string.byte(meta, 1) ~= 101 or redis.call('EXISTS', KEYS[2]) == 1
        if live and ARGV[3] == '1' then
          return 0
        end
        purge(ARGV[2])
        redis.call('HDEL', KEYS[1], ARGV[1])
        if not live then
          return redis.error_reply('NOTFOUND no such object')
        end
        return 1
        """;

    // KEYS[3] = the new name's alive key, ARGV[2] = new name, ARGV[3] = old prefix, ARGV[4] = new prefix. Moves the
    // registry entry and every data key a Volume has (its head, its heartbeat); Dicts and Queues are not renamed.
    private const string RenameScript = RequireLive + """
        if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then
          return redis.error_reply('EXISTS name taken')
        end
        redis.call('HSET', KEYS[1], ARGV[2], meta)
        redis.call('HDEL', KEYS[1], ARGV[1])
        for _, suffix in ipairs({'head', 'alive'}) do
          if redis.call('EXISTS', ARGV[3] .. suffix) == 1 then
            redis.call('RENAME', ARGV[3] .. suffix, ARGV[4] .. suffix)
          end
        end
        return 1
        """;

    // ARGV[2] = heartbeat ms.
    private const string HeartbeatScript = RequireLive + """
        if string.byte(meta, 1) == 101 then
          redis.call('PEXPIRE', KEYS[2], ARGV[2])
        end
        return 1
        """;

    private readonly IDatabase _db = redis.GetDatabase();
    private readonly long _ephemeralMs = (long)options.Value.EphemeralTtl.TotalMilliseconds;

    /// <summary>Looks the object up, creating it first when <paramref name="createIfMissing"/>.</summary>
    public async Task<StorageObjectInfo> EnsureAsync(ObjectRef target, bool createIfMissing, bool ephemeral, CancellationToken cancellationToken)
    {
        var meta = $"{(ephemeral ? 'e' : 'd')}:{clock.GetUtcNow().ToUnixTimeMilliseconds()}";
        var result = await RunAsync(target, EnsureScript, [], [meta, _ephemeralMs, createIfMissing ? "1" : "0", target.Prefix], cancellationToken);
        return Info(target.Name, result.ToString());
    }

    public async Task DeleteAsync(ObjectRef target, CancellationToken cancellationToken) =>
        await RunAsync(target, DeleteScript, [], [target.Prefix, "0"], cancellationToken);

    /// <summary>Gives <paramref name="target"/> the name <paramref name="newName"/>; fails when that name is taken.</summary>
    public async Task RenameAsync(ObjectRef target, string newName, CancellationToken cancellationToken)
    {
        var renamed = target with { Name = newName };
        try
        {
            await RunAsync(target, RenameScript, [renamed.Alive], [newName, target.Prefix, renamed.Prefix], cancellationToken);
        }
        catch (ObjectExistsException)
        {
            throw new ObjectExistsException($"Cannot rename {target}: {renamed} exists already.");
        }
    }

    /// <summary>Keeps an ephemeral object alive for another <see cref="StorageOptions.EphemeralTtl"/>; a no-op for others.</summary>
    public async Task HeartbeatAsync(ObjectRef target, CancellationToken cancellationToken) =>
        await RunAsync(target, HeartbeatScript, [], [_ephemeralMs], cancellationToken);

    /// <summary>The workspace's objects of one kind by name; ephemeral ones whose creator stopped beating are removed now.</summary>
    public async Task<IReadOnlyList<StorageObjectInfo>> ListAsync(ObjectKind kind, Guid workspaceId, CancellationToken cancellationToken)
    {
        var registry = new ObjectRef(kind, workspaceId, "").Registry;
        var entries = await _db.HashGetAllAsync(registry).WaitAsync(cancellationToken);
        var listed = new List<StorageObjectInfo>(entries.Length);
        foreach (var entry in entries)
        {
            var info = Info(entry.Name.ToString(), entry.Value.ToString());
            var target = new ObjectRef(kind, workspaceId, info.Name);
            if (info.Ephemeral && !await _db.KeyExistsAsync(target.Alive).WaitAsync(cancellationToken))
            {
                await DeleteDeadAsync(target, cancellationToken);
                continue;
            }
            listed.Add(info);
        }
        return listed.OrderBy(o => o.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Runs <paramref name="script"/> on <paramref name="target"/> after the existence check. Its own keys and
    /// arguments follow the check's: KEYS[3…] and ARGV[2…]. Redis error replies become the storage exceptions.
    /// </summary>
    public Task<RedisResult> EvaluateAsync(
        ObjectRef target, string script, RedisKey[] keys, RedisValue[] arguments, CancellationToken cancellationToken) =>
        RunAsync(target, RequireLive + script, keys, arguments, cancellationToken);

    private async Task<RedisResult> RunAsync(
        ObjectRef target, string script, RedisKey[] keys, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        try
        {
            return await _db.ScriptEvaluateAsync(script, [target.Registry, target.Alive, .. keys], [target.Name, .. arguments])
                .WaitAsync(cancellationToken);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOTFOUND ", StringComparison.Ordinal))
        {
            throw new ObjectNotFoundException(target);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("EXISTS ", StringComparison.Ordinal))
        {
            throw new ObjectExistsException($"{target.Kind} of that name exists already.");
        }
        catch (RedisServerException e) when (e.Message.StartsWith("FULL ", StringComparison.Ordinal))
        {
            throw new QueueFullException($"{target}: {e.Message["FULL ".Length..]}.");
        }
    }

    private async Task DeleteDeadAsync(ObjectRef target, CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(target, DeleteScript, [], [target.Prefix, "1"], cancellationToken);
        }
        catch (ObjectNotFoundException)
        {
            // Expected: a dead ephemeral object is removed and reported missing.
        }
    }

    private static StorageObjectInfo Info(string name, string meta) =>
        new(name, DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(meta.AsSpan(2), System.Globalization.CultureInfo.InvariantCulture)), meta[0] == 'e');
}
