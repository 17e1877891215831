using Modal.Storage.Objects;
using StackExchange.Redis;

namespace Modal.Storage.Queues;

/// <summary>
/// Queue partitions in Redis: one list per partition (<c>…:p:{partition}</c>, the default partition being
/// <c>…:p:</c>) that expires its TTL after the last put, and the set of partitions (<c>…:parts</c>). Puts check the
/// limits, push and refresh the TTL in one script; gets pop with LPOP, so each item goes to exactly one consumer.
/// A get that finds nothing waits for a put on its partition through Redis pub/sub (StackExchange.Redis multiplexes
/// one connection, so BLPOP would block every other command): every put publishes on the partition's channel and
/// every Storage replica holds one pattern subscription that wakes its local waiters, which then pop again.
/// </summary>
public sealed class QueueStore : IAsyncDisposable
{
    private const string ChannelPrefix = "modal:queue-put:";
    private static readonly RedisChannel AllPuts = RedisChannel.Pattern(ChannelPrefix + "*");

    // After the existence check: KEYS[3] = the partition's list, KEYS[4] = partitions set, ARGV[2] = partition.
    // ARGV[3] = TTL ms, ARGV[4] = item limit, ARGV[5] = partition limit, ARGV[6] = channel, ARGV[7…] = items.
    private const string PutScript = """
        local list, parts = KEYS[3], KEYS[4]
        local count = #ARGV - 6
        local length = redis.call('LLEN', list)
        if length + count > tonumber(ARGV[4]) then
          return redis.error_reply('FULL the partition holds ' .. length .. ' items and ' .. count .. ' more would pass its limit of ' .. ARGV[4])
        end
        if redis.call('SISMEMBER', parts, ARGV[2]) == 0 and redis.call('SCARD', parts) >= tonumber(ARGV[5]) then
          return redis.error_reply('FULL the queue has its limit of ' .. ARGV[5] .. ' partitions')
        end
        -- unpack() is bounded by Lua's C stack (8000 slots): push in slices.
        for i = 7, #ARGV, 1000 do
          redis.call('RPUSH', list, unpack(ARGV, i, math.min(i + 999, #ARGV)))
        end
        local ttl = tonumber(ARGV[3])
        redis.call('PEXPIRE', list, ttl)
        redis.call('SADD', parts, ARGV[2])
        if redis.call('PTTL', parts) < ttl then
          redis.call('PEXPIRE', parts, ttl)
        end
        redis.call('PUBLISH', ARGV[6], count)
        return length + count
        """;

    // ARGV[3] = how many.
    private const string PopScript = """
        return redis.call('LPOP', KEYS[3], ARGV[3]) or {}
        """;

    // ARGV[3] = '1' for every partition, ARGV[4] = the queue's key prefix.
    private const string LenScript = """
        if ARGV[3] ~= '1' then
          return redis.call('LLEN', KEYS[3])
        end
        local total = 0
        for _, partition in ipairs(redis.call('SMEMBERS', KEYS[4])) do
          local length = redis.call('LLEN', ARGV[4] .. 'p:' .. partition)
          if length == 0 then
            redis.call('SREM', KEYS[4], partition)
          end
          total = total + length
        end
        return total
        """;

    // ARGV[3] = first index, ARGV[4] = last index.
    private const string PeekScript = """
        return redis.call('LRANGE', KEYS[3], ARGV[3], ARGV[4])
        """;

    // ARGV[3] = '1' for every partition, ARGV[4] = the queue's key prefix.
    private const string ClearScript = """
        if ARGV[3] ~= '1' then
          redis.call('SREM', KEYS[4], ARGV[2])
          return redis.call('DEL', KEYS[3])
        end
        for _, partition in ipairs(redis.call('SMEMBERS', KEYS[4])) do
          redis.call('DEL', ARGV[4] .. 'p:' .. partition)
        end
        return redis.call('DEL', KEYS[4])
        """;

    private readonly ObjectRegistry _registry;
    private readonly ISubscriber _subscriber;
    // Waiters by channel. A plain lock: registering, leaving and waking must not interleave, or a waiter could join a
    // set just as it is dropped and miss its wake-up.
    private readonly Dictionary<string, HashSet<TaskCompletionSource>> _waiters = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _subscribing = new(1, 1);
    private volatile bool _subscribed;

    public QueueStore(ObjectRegistry registry, IConnectionMultiplexer redis)
    {
        _registry = registry;
        _subscriber = redis.GetSubscriber();
    }

    /// <summary>Appends <paramref name="items"/> to the partition; all or none. Returns the partition's new length.</summary>
    /// <exception cref="QueueFullException">The partition would hold more than 5,000 items, or the queue more than 100,000 partitions.</exception>
    public async Task<long> PutAsync(ObjectRef queue, string partition, IReadOnlyList<RawJson> items, TimeSpan partitionTtl, CancellationToken cancellationToken)
    {
        RedisValue[] arguments =
        [
            (long)partitionTtl.TotalMilliseconds, StorageLimits.MaxItemsPerPartition, StorageLimits.MaxPartitions,
            Channel(queue, partition), .. items.Select(i => (RedisValue)i.Text),
        ];
        return (long)await RunAsync(queue, partition, PutScript, arguments, cancellationToken);
    }

    /// <summary>
    /// Removes and returns up to <paramref name="count"/> items from the head of the partition, waiting up to
    /// <paramref name="timeout"/> for at least one (zero: look once). Empty when none came in time.
    /// </summary>
    public async Task<IReadOnlyList<RawJson>> GetAsync(
        ObjectRef queue, string partition, int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return await PopAsync(queue, partition, count, cancellationToken);
        }

        await SubscribeAsync();
        var deadline = DateTimeOffset.UtcNow + timeout;
        var channel = Channel(queue, partition);
        while (true)
        {
            var put = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Register(channel, put);
            try
            {
                // Pop only once the waiter is registered: a put in between is either seen now or wakes the waiter.
                var items = await PopAsync(queue, partition, count, cancellationToken);
                var remaining = deadline - DateTimeOffset.UtcNow;
                if (items.Count > 0 || remaining <= TimeSpan.Zero)
                {
                    return items;
                }
                await put.Task.WaitAsync(remaining, cancellationToken);
            }
            catch (TimeoutException)
            {
                return await PopAsync(queue, partition, count, cancellationToken);
            }
            finally
            {
                Unregister(channel, put);
            }
        }
    }

    /// <summary>Items of one partition, or of all, as counted now.</summary>
    public async Task<long> LenAsync(ObjectRef queue, string partition, bool total, CancellationToken cancellationToken) =>
        (long)await RunAsync(queue, partition, LenScript, [total ? "1" : "0", queue.Prefix], cancellationToken);

    /// <summary>Items <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1 of the partition, not removed.</summary>
    public async Task<IReadOnlyList<RawJson>> PeekAsync(ObjectRef queue, string partition, long start, int count, CancellationToken cancellationToken) =>
        Items(await RunAsync(queue, partition, PeekScript, [start, start + count - 1], cancellationToken));

    public async Task ClearAsync(ObjectRef queue, string partition, bool all, CancellationToken cancellationToken) =>
        await RunAsync(queue, partition, ClearScript, [all ? "1" : "0", queue.Prefix], cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_subscribed)
        {
            await _subscriber.UnsubscribeAsync(AllPuts);
        }
        _subscribing.Dispose();
    }

    private async Task<IReadOnlyList<RawJson>> PopAsync(ObjectRef queue, string partition, int count, CancellationToken cancellationToken) =>
        Items(await RunAsync(queue, partition, PopScript, [count], cancellationToken));

    private Task<RedisResult> RunAsync(ObjectRef queue, string partition, string script, RedisValue[] arguments, CancellationToken cancellationToken) =>
        _registry.EvaluateAsync(queue, script, [queue.Data("p:" + partition), queue.Data("parts")], [partition, .. arguments], cancellationToken);

    private async Task SubscribeAsync()
    {
        if (_subscribed)
        {
            return;
        }
        // Not a Lazy<Task>: a failed subscription (Redis briefly down) must be retried by the next get, not cached.
        await _subscribing.WaitAsync();
        try
        {
            if (!_subscribed)
            {
                await _subscriber.SubscribeAsync(AllPuts, (channel, _) => Wake(channel.ToString()));
                _subscribed = true;
            }
        }
        finally
        {
            _subscribing.Release();
        }
    }

    private void Register(string channel, TaskCompletionSource waiter)
    {
        lock (_waiters)
        {
            if (!_waiters.TryGetValue(channel, out var waiters))
            {
                _waiters[channel] = waiters = [];
            }
            waiters.Add(waiter);
        }
    }

    private void Unregister(string channel, TaskCompletionSource waiter)
    {
        lock (_waiters)
        {
            if (_waiters.TryGetValue(channel, out var waiters) && waiters.Remove(waiter) && waiters.Count == 0)
            {
                _waiters.Remove(channel);
            }
        }
    }

    private void Wake(string channel)
    {
        lock (_waiters)
        {
            if (_waiters.TryGetValue(channel, out var waiters))
            {
                // Continuations run asynchronously (RunContinuationsAsynchronously), not under this lock.
                foreach (var waiter in waiters)
                {
                    waiter.TrySetResult();
                }
            }
        }
    }

    private static string Channel(ObjectRef queue, string partition) => $"{ChannelPrefix}{queue.WorkspaceId:N}:{queue.Name}:{partition}";

    private static List<RawJson> Items(RedisResult result) =>
        result.IsNull ? [] : ((RedisResult[])result!).Select(r => new RawJson(r.ToString())).ToList();
}
