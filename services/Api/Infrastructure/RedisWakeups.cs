using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Modal.Api.Infrastructure;

/// <summary>
/// Wakes requests waiting on something (a call's end, a map's new outputs) when any Api replica, or a Lua script,
/// publishes on <c>{prefix}{id}</c>. One pattern subscription serves every id; a watch is registered before the
/// waiter reads the state, so a publish in between is not missed.
/// </summary>
public sealed class RedisWakeups : IAsyncDisposable
{
    private readonly ISubscriber _subscriber;
    private readonly string _prefix;
    private readonly ConcurrentDictionary<string, ConcurrentBag<TaskCompletionSource>> _waiters = new();
    private readonly Lazy<Task> _subscription;

    public RedisWakeups(IConnectionMultiplexer redis, string channelPrefix)
    {
        _subscriber = redis.GetSubscriber();
        _prefix = channelPrefix;
        _subscription = new Lazy<Task>(() => _subscriber.SubscribeAsync(
            RedisChannel.Pattern(_prefix + "*"), (channel, _) => Wake(channel.ToString()[_prefix.Length..])));
    }

    /// <summary>The channel to publish on to wake the watchers of <paramref name="id"/>.</summary>
    public string ChannelFor(string id) => _prefix + id;

    /// <summary>Starts watching <paramref name="id"/>; the next publish for it completes the watch.</summary>
    public async Task<Watch> WatchAsync(string id)
    {
        await _subscription.Value;
        var woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.GetOrAdd(id, _ => []).Add(woken);
        return new Watch(this, id, woken);
    }

    /// <summary>One registered wait (<see cref="WatchAsync"/>).</summary>
    public sealed class Watch(RedisWakeups owner, string id, TaskCompletionSource woken) : IAsyncDisposable
    {
        /// <summary>True when woken within <paramref name="timeout"/>, false when it passed first.</summary>
        public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            try
            {
                await woken.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        public ValueTask DisposeAsync()
        {
            woken.TrySetCanceled(CancellationToken.None);
            if (owner._waiters.TryGetValue(id, out var waiters) && waiters.All(w => w.Task.IsCompleted))
            {
                owner._waiters.TryRemove(new KeyValuePair<string, ConcurrentBag<TaskCompletionSource>>(id, waiters));
            }
            return ValueTask.CompletedTask;
        }
    }

    private void Wake(string id)
    {
        if (_waiters.TryRemove(id, out var waiters))
        {
            foreach (var waiter in waiters)
            {
                waiter.TrySetResult();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_subscription.IsValueCreated)
        {
            await _subscriber.UnsubscribeAsync(RedisChannel.Pattern(_prefix + "*"));
        }
    }
}
