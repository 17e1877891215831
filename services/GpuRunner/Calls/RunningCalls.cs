using System.Collections.Concurrent;

namespace Modal.GpuRunner.Calls;

/// <summary>
/// The calls running on this runner, so a cancel (<c>FunctionCallCancelled</c>, seen by every runner) reaches the one
/// running it; and the calls cancelled lately, so an input of a cancelled call still queued is skipped when it arrives.
/// </summary>
public sealed class RunningCalls(TimeProvider clock)
{
    /// <summary>How long a cancel is remembered for inputs that are still queued.</summary>
    public static readonly TimeSpan CancelMemory = TimeSpan.FromHours(1);

    // A map's slices run under the map's id, several at once: each is one entry of the id's set.
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<RunningCall, byte>> _running = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _cancelled = new();

    /// <summary>Registers a call that starts running here; null if it was already cancelled.</summary>
    public RunningCall? Start(string callId)
    {
        if (_cancelled.ContainsKey(callId))
        {
            return null;
        }
        var call = new RunningCall();
        _running.GetOrAdd(callId, _ => new ConcurrentDictionary<RunningCall, byte>())[call] = 0;
        return call;
    }

    /// <summary>Whether a cancel of <paramref name="callId"/> was seen lately.</summary>
    public bool IsCancelled(string callId) => _cancelled.ContainsKey(callId);

    public void Finish(string callId, RunningCall call)
    {
        if (_running.TryGetValue(callId, out var calls))
        {
            calls.TryRemove(call, out _);
            if (calls.IsEmpty)
            {
                _running.TryRemove(new KeyValuePair<string, ConcurrentDictionary<RunningCall, byte>>(callId, calls));
            }
        }
        call.Dispose();
    }

    /// <summary>Marks a call cancelled and signals it if it runs here.</summary>
    public void Cancel(string callId, bool terminateContainer)
    {
        var now = clock.GetUtcNow();
        _cancelled[callId] = now;
        foreach (var expired in _cancelled.Where(pair => now - pair.Value > CancelMemory))
        {
            _cancelled.TryRemove(expired);
        }
        if (_running.TryGetValue(callId, out var calls))
        {
            foreach (var call in calls.Keys)
            {
                call.Cancel(terminateContainer);
            }
        }
    }
}

/// <summary>One call running on this runner: its cancellation, and whether the caller asked to stop its container too.</summary>
public sealed class RunningCall : IDisposable
{
    private readonly CancellationTokenSource _cancellation = new();

    public CancellationToken Cancelled => _cancellation.Token;

    public bool TerminateContainer { get; private set; }

    public void Cancel(bool terminateContainer)
    {
        TerminateContainer |= terminateContainer;
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It finished meanwhile.
        }
    }

    public void Dispose() => _cancellation.Dispose();
}
