namespace Modal.Scheduler.Leadership;

/// <summary>
/// A loop of rounds: one every <see cref="Interval"/>, one at once when woken (several wakes before it starts make one
/// round), and one when this instance becomes the leader (<see cref="LeaderLease"/>), so what a previous leader left
/// undone is done now rather than at the next tick. A failed round is logged; the next one starts afresh. What a round
/// may do only as the leader, it checks itself.
/// </summary>
public abstract class RoundLoop(LeaderLease lease) : BackgroundService
{
    private TaskCompletionSource _wake = NewWake();

    /// <summary>This instance's hold on the leader lease.</summary>
    protected LeaderLease Lease { get; } = lease;

    /// <summary>Runs a round now rather than at the next tick.</summary>
    public void Wake() => Volatile.Read(ref _wake).TrySetResult();

    /// <summary>Time between rounds when nothing wakes the loop.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>One round.</summary>
    protected abstract Task RoundAsync(CancellationToken cancellationToken);

    /// <summary>A round threw (a store or the broker may be down).</summary>
    protected abstract void OnRoundFailed(Exception exception);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Lease.LeadershipChanged += OnLeadershipChanged;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // Swapped before the round, so a wake during the round starts the next one at once.
                var wake = NewWake();
                Volatile.Write(ref _wake, wake);
                try
                {
                    await RoundAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    OnRoundFailed(e);
                }
                await Task.WhenAny(Task.Delay(Interval, stoppingToken), wake.Task);
            }
        }
        finally
        {
            Lease.LeadershipChanged -= OnLeadershipChanged;
        }
    }

    private void OnLeadershipChanged(bool leading)
    {
        if (leading)
        {
            Wake();
        }
    }

    private static TaskCompletionSource NewWake() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
