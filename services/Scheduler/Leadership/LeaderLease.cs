using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Modal.Scheduler.Infrastructure;

namespace Modal.Scheduler.Leadership;

/// <summary>
/// Leadership among Scheduler instances: a lease, one row of the Scheduler database's <c>leases</c> table, held by one
/// instance (<see cref="SchedulerInstance.Id"/>) at a time. Every <see cref="SchedulerOptions.LeaseRenewInterval"/> each
/// instance runs one atomic statement that renews the lease if it holds it, takes it if it has expired, and else says
/// who holds it; expiry is by the database's clock (<c>now()</c>), so the nodes' clocks need not agree. A graceful stop
/// releases the lease, so another instance takes over at its next attempt rather than after the lease time.
/// <para>
/// Locally, leadership ends <see cref="SchedulerOptions.LeaseDuration"/> after the start of the last renewal that
/// succeeded, measured on this process's monotonic clock. The database's expiry is counted from a later instant (the
/// statement's, on the server), so a leader cut off from the database stops acting before another instance can take
/// the lease: two instances never both believe they lead.
/// </para>
/// <para>
/// For other components (the autoscaler, schedule registration):
/// <list type="bullet">
/// <item><see cref="IsLeader"/>: read it right before acting; it turns false by itself when the lease lapses, even
/// while a renewal hangs.</item>
/// <item><see cref="LeadershipChanged"/>: raised with <c>true</c> when this instance becomes leader and <c>false</c>
/// when it stops being one (lost, lapsed or released), one call at a time on the lease's own loop; a handler must not
/// block (start work elsewhere, e.g. wake a loop).</item>
/// <item><see cref="WaitForLeadershipAsync"/>: completes when this instance leads, with a token that is cancelled when
/// that leadership ends. A component that must run only on the leader, and reconcile when it becomes leader, loops:
/// <code>
/// while (!stopping.IsCancellationRequested)
/// {
///     var term = await lease.WaitForLeadershipAsync(stopping);
///     using var leading = CancellationTokenSource.CreateLinkedTokenSource(term, stopping);
///     await ReconcileAndRunAsync(leading.Token); // until leadership ends
/// }
/// </code></item>
/// </list>
/// </para>
/// </summary>
public sealed partial class LeaderLease : BackgroundService
{
    /// <summary>The lease that the Scheduler's autoscaling and placement run under.</summary>
    public const string SchedulerLeaseName = "scheduler";

    // An INSERT that conflicts takes the row only when this instance holds it or it has expired; otherwise nothing is
    // written and the second SELECT says who holds it. One statement, so two instances cannot both win.
    private const string AcquireSql = """
        WITH taken AS (
            INSERT INTO leases (name, holder, expires_at) VALUES (@name, @holder, now() + @duration)
            ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
            WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < now()
            RETURNING holder)
        SELECT holder FROM taken
        UNION ALL
        SELECT holder FROM leases WHERE name = @name AND NOT EXISTS (SELECT 1 FROM taken)
        """;

    private const string ReleaseSql = "DELETE FROM leases WHERE name = @name AND holder = @holder";

    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(5);

    private readonly string _name;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _clock;
    private readonly ILogger<LeaderLease> _logger;
    private readonly TimeSpan _duration;
    private readonly TimeSpan _renewInterval;
    private readonly Lock _transitions = new();
    private Term? _term;
    private TaskCompletionSource<CancellationToken> _leadership = NewLeadership();

    public LeaderLease(
        string name, IServiceScopeFactory scopes, SchedulerInstance instance, IOptions<SchedulerOptions> options, TimeProvider clock,
        ILogger<LeaderLease> logger)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(options);
        _name = name;
        _scopes = scopes;
        _clock = clock;
        _logger = logger;
        Holder = instance.Id;
        _duration = options.Value.LeaseDuration;
        _renewInterval = options.Value.LeaseRenewInterval;
    }

    /// <summary>The name this instance holds the lease under (its <see cref="SchedulerInstance.Id"/>).</summary>
    public string Holder { get; }

    /// <summary>The holder named by the database at the last attempt (this instance's or another's); null when none or unknown.</summary>
    public string? LastKnownLeader { get; private set; }

    /// <summary>Whether this instance leads now: it holds the lease and renewed it within the lease time.</summary>
    public bool IsLeader => Volatile.Read(ref _term) is { } term && !Lapsed(term);

    /// <summary>
    /// Raised with <c>true</c> when this instance becomes leader, <c>false</c> when it stops being one. Called on the
    /// lease's loop, one call at a time; a handler must return quickly and not throw (a throw is logged).
    /// </summary>
    public event Action<bool>? LeadershipChanged;

    /// <summary>
    /// Completes when this instance leads (at once if it does now), with a token cancelled when that leadership ends.
    /// The token may already be cancelled if leadership ended in between: check it, and wait again.
    /// </summary>
    public Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _leadership).Task.WaitAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            ExpireIfLapsed();
            var attemptStartedAt = _clock.GetTimestamp();
            var holder = await TryAcquireAsync(stoppingToken);
            if (holder is not null)
            {
                LastKnownLeader = holder;
                if (holder == Holder)
                {
                    Renewed(attemptStartedAt);
                }
                else
                {
                    End($"the lease is held by {holder}", lost: true);
                }
            }
            ExpireIfLapsed();

            var wait = _renewInterval - _clock.GetElapsedTime(attemptStartedAt);
            if (Volatile.Read(ref _term) is { } term)
            {
                // Wake when the lease would lapse, so LeadershipChanged is raised on time even if renewals keep failing.
                var left = _duration - _clock.GetElapsedTime(Interlocked.Read(ref term.RenewedAt));
                wait = left < wait ? left : wait;
            }
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, _clock, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Stops renewing, then releases the lease, so another instance takes over at its next attempt.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        End("this Scheduler is stopping", lost: false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReleaseTimeout);
        try
        {
            // Also when this instance does not think it leads: an attempt given up on may still have taken the lease.
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<SchedulerDbContext>();
            await using var command = await CommandAsync(db, ReleaseSql, timeout.Token);
            if (await command.ExecuteNonQueryAsync(timeout.Token) > 0)
            {
                LogReleased(_logger, _name, Holder);
            }
        }
        catch (Exception e) when (e is DbException or OperationCanceledException or InvalidOperationException or TimeoutException)
        {
            // The lease then lapses by itself after its time.
            LogReleaseFailed(_logger, e, _name);
        }
    }

    /// <summary>Runs the acquire statement; the holder it names, or null when the attempt failed or took too long.</summary>
    private async Task<string?> TryAcquireAsync(CancellationToken stoppingToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        attempt.CancelAfter(_renewInterval);
        var run = AcquireAsync(attempt.Token);
        try
        {
            // Npgsql's cancellation needs the server to answer; a partitioned network may not. The lease's local
            // expiry must not wait on it.
            return await run.WaitAsync(_renewInterval, stoppingToken);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // Whatever went wrong, the next attempt tries again; leadership lapses by itself meanwhile.
            _ = run.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            if (IsLeader)
            {
                LogRenewalFailed(_logger, e, _name);
            }
            return null;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task<string?> AcquireAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SchedulerDbContext>();
        await using var command = await CommandAsync(db, AcquireSql, cancellationToken);
        var duration = command.CreateParameter();
        duration.ParameterName = "duration";
        duration.Value = _duration;
        command.Parameters.Add(duration);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private async Task<DbCommand> CommandAsync(SchedulerDbContext db, string sql, CancellationToken cancellationToken)
    {
        // The context closes the connection it opened when the scope disposes it.
        await db.Database.OpenConnectionAsync(cancellationToken);
        var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in new[] { ("name", _name), ("holder", Holder) })
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    private void Renewed(long attemptStartedAt)
    {
        lock (_transitions)
        {
            if (Volatile.Read(ref _term) is { } term)
            {
                Interlocked.Exchange(ref term.RenewedAt, attemptStartedAt);
                return;
            }
            var gained = new Term(attemptStartedAt);
            Volatile.Write(ref _term, gained);
            Volatile.Read(ref _leadership).TrySetResult(gained.Ended.Token);
        }
        LogBecameLeader(_logger, _name, Holder);
        Raise(true);
    }

    private void ExpireIfLapsed()
    {
        if (Volatile.Read(ref _term) is { } term && Lapsed(term))
        {
            End($"no renewal succeeded for {_duration.TotalSeconds:0.#} s", lost: true);
        }
    }

    private void End(string reason, bool lost)
    {
        Term? ended;
        lock (_transitions)
        {
            ended = Volatile.Read(ref _term);
            if (ended is null)
            {
                return;
            }
            Volatile.Write(ref _term, null);
            Volatile.Write(ref _leadership, NewLeadership());
        }
        if (lost)
        {
            LogLostLeadership(_logger, _name, Holder, reason);
        }
        // Not disposed: a component may still link its work to the token handed out by WaitForLeadershipAsync.
        ended.Ended.Cancel();
        Raise(false);
    }

    private void Raise(bool leading)
    {
        try
        {
            LeadershipChanged?.Invoke(leading);
        }
        catch (Exception e)
        {
            LogHandlerFailed(_logger, e, _name);
        }
    }

    private bool Lapsed(Term term) => _clock.GetElapsedTime(Interlocked.Read(ref term.RenewedAt)) >= _duration;

    private static TaskCompletionSource<CancellationToken> NewLeadership() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One stretch of leadership: since when (the last renewal's start, a monotonic timestamp) and its end.</summary>
    private sealed class Term(long renewedAt)
    {
        public long RenewedAt = renewedAt;
        public CancellationTokenSource Ended { get; } = new();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Became leader of lease {Lease} as {Holder}")]
    private static partial void LogBecameLeader(ILogger logger, string lease, string holder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost leadership of lease {Lease} as {Holder}: {Reason}")]
    private static partial void LogLostLeadership(ILogger logger, string lease, string holder, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Released lease {Lease} held as {Holder}")]
    private static partial void LogReleased(ILogger logger, string lease, string holder);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release lease {Lease}; it lapses by itself")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew lease {Lease}")]
    private static partial void LogRenewalFailed(ILogger logger, Exception exception, string lease);

    [LoggerMessage(Level = LogLevel.Error, Message = "A handler of lease {Lease}'s LeadershipChanged threw")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception, string lease);
}
