using System.Collections.Concurrent;
using MassTransit;
using Modal.Contracts.Calls;

namespace Modal.GpuRunner.Calls;

/// <summary>
/// Ships the lines each running input prints to the bus as <see cref="FunctionCallLogged"/>, a batch every
/// <see cref="FlushInterval"/> while it runs and the rest when it ends, so a long call's logs can be followed as they
/// come and one chatty input does not become one message per line.
/// </summary>
public sealed partial class CallLogShipper(IBus bus, TimeProvider clock, ILogger<CallLogShipper> logger) : BackgroundService
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Lines one attempt may log; the rest are dropped (and counted), so a runaway loop cannot flood the bus.</summary>
    public const int MaxLinesPerAttempt = 10_000;

    /// <summary>Longest line kept; longer lines are cut.</summary>
    public const int MaxLineLength = 16 * 1024;

    private readonly ConcurrentDictionary<(string CallId, int Attempt), AttemptLog> _attempts = new();

    /// <summary>
    /// Starts collecting an attempt's lines; the returned callback takes (stream, text). A map's slices running at once
    /// on this runner share one log under the map's id: each opens it, and it closes when the last one closes it.
    /// </summary>
    public Action<string, string> Open(string callId, int attempt, Guid appId, string functionName)
    {
        AttemptLog log;
        lock (_gate)
        {
            log = _attempts.GetOrAdd((callId, attempt), _ => new AttemptLog(appId, functionName));
            log.Users++;
        }
        return (stream, text) => log.Add(new LogLine
        {
            Stream = stream,
            Text = text.Length > MaxLineLength ? string.Concat(text.AsSpan(0, MaxLineLength), "…") : text,
            At = clock.GetUtcNow(),
        });
    }

    /// <summary>Sends what the attempt printed and has not been sent yet; stops collecting it once its last user closes it.</summary>
    public async Task CloseAsync(string callId, int attempt)
    {
        AttemptLog? log;
        bool last;
        lock (_gate)
        {
            if (!_attempts.TryGetValue((callId, attempt), out log))
            {
                return;
            }
            last = --log.Users <= 0;
            if (last)
            {
                _attempts.TryRemove((callId, attempt), out _);
            }
        }
        await ShipAsync(callId, attempt, log, closing: last);
    }

    private readonly object _gate = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            foreach (var ((callId, attempt), log) in _attempts)
            {
                try
                {
                    await ShipAsync(callId, attempt, log, closing: false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Logs are best effort: a broker hiccup must not stop the runner; the lines are lost, the call is not.
                    LogShipFailed(logger, callId, e.Message);
                }
            }
        }
    }

    private static Task ShipAsync(IBus bus, string callId, int attempt, AttemptLog log, List<LogLine> lines, Task previous) =>
        previous.ContinueWith(_ => bus.Publish(new FunctionCallLogged
            {
                FunctionCallId = callId, Attempt = attempt, Lines = lines, AppId = log.AppId, FunctionName = log.FunctionName,
            }),
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();

    private Task ShipAsync(string callId, int attempt, AttemptLog log, bool closing)
    {
        // Each shipment of an attempt starts after the one before, so batches arrive in the order they were printed.
        lock (log)
        {
            var lines = log.Take(closing);
            return lines.Count == 0 ? log.LastShipment : log.LastShipment = ShipAsync(bus, callId, attempt, log, lines, log.LastShipment);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not ship log lines of call {CallId}: {Reason}")]
    private static partial void LogShipFailed(ILogger logger, string callId, string reason);

    private sealed class AttemptLog(Guid appId, string functionName)
    {
        public Guid AppId { get; } = appId;

        public string FunctionName { get; } = functionName;

        private List<LogLine> _lines = [];
        private int _kept;
        private int _dropped;

        public Task LastShipment { get; set; } = Task.CompletedTask;

        /// <summary>Open handles (guarded by the shipper's gate).</summary>
        public int Users { get; set; }

        public void Add(LogLine line)
        {
            lock (this)
            {
                if (_kept++ < MaxLinesPerAttempt)
                {
                    _lines.Add(line);
                }
                else
                {
                    _dropped++;
                }
            }
        }

        /// <summary>Takes the lines not shipped yet (callers hold the lock on this log).</summary>
        public List<LogLine> Take(bool closing)
        {
            lock (this)
            {
                var lines = _lines;
                _lines = [];
                if (closing && _dropped > 0)
                {
                    lines.Add(new LogLine
                    {
                        Stream = "stderr", Text = $"[modal] {_dropped:N0} more lines were not kept (at most {MaxLinesPerAttempt:N0} per attempt).",
                        At = DateTimeOffset.UtcNow,
                    });
                }
                return lines;
            }
        }
    }
}
