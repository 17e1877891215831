using System.Threading.Channels;
using Modal.Api.Contracts.Maps;
using Modal.Rest;
using Spectre.Console;

namespace Modal.Cli.Commands;

/// <summary>
/// What <c>modal run</c> shows while the entrypoint runs: its own output and its functions' logs, and a live progress
/// bar per running map (Spectre.Console). Everything is written from one loop, since Spectre's live display is not
/// thread-safe; on a console that is not interactive, each map's progress is a line when it finishes.
/// </summary>
internal sealed class RunConsole(ModalClient client, string app)
{
    private static readonly TimeSpan MapPollInterval = TimeSpan.FromMilliseconds(500);

    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues a line of markup to print.</summary>
    public void Write(string markup) => _lines.Writer.TryWrite(markup);

    /// <summary>Shows lines and map progress until <paramref name="finished"/> completes, then what is left.</summary>
    public async Task ShowAsync(Task finished, CancellationToken cancellationToken)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .StartAsync(context => LoopAsync(finished, maps => ShowBars(context, maps), cancellationToken));
        }
        else
        {
            var reported = new HashSet<string>();
            await LoopAsync(finished, maps => ReportFinished(maps, reported), cancellationToken);
        }
    }

    private async Task LoopAsync(Task finished, Action<IReadOnlyList<MapInfo>> showMaps, CancellationToken cancellationToken)
    {
        var nextPoll = DateTimeOffset.MinValue;
        while (true)
        {
            while (_lines.Reader.TryRead(out var line))
            {
                AnsiConsole.MarkupLine(line);
            }
            var done = finished.IsCompleted;
            if (done || DateTimeOffset.UtcNow >= nextPoll)
            {
                nextPoll = DateTimeOffset.UtcNow + MapPollInterval;
                try
                {
                    showMaps((await client.Maps.ListForAppAsync(app, 10, cancellationToken)).Maps);
                }
                catch (HttpRequestException)
                {
                    // Progress is a nicety: the app's output matters more than a missed refresh.
                }
            }
            if (done)
            {
                return;
            }
            await Task.WhenAny(finished, _lines.Reader.WaitToReadAsync(cancellationToken).AsTask(), Task.Delay(MapPollInterval, cancellationToken));
        }
    }

    private readonly Dictionary<string, ProgressTask> _bars = [];

    private void ShowBars(ProgressContext context, IReadOnlyList<MapInfo> maps)
    {
        foreach (var map in maps.OrderBy(m => m.CreatedAt))
        {
            if (!_bars.TryGetValue(map.MapId, out var bar))
            {
                if (map.Finished || map.Cancelled)
                {
                    continue; // Over before this run looked: nothing to show.
                }
                bar = _bars[map.MapId] = context.AddTask(Markup.Escape($"{map.FunctionName}.map"), maxValue: 1);
            }
            bar.MaxValue = Math.Max(1, map.Total ?? map.InputsQueued);
            bar.Value = map.Outputs;
            bar.Description = Markup.Escape($"{map.FunctionName}.map {map.Outputs:N0}/{(map.Total is { } total ? total.ToString("N0") : $"{map.InputsQueued:N0}+")}")
                + (map.Failures > 0 ? $" [red]{map.Failures:N0} failed[/]" : "");
            if (map.Finished || map.Cancelled)
            {
                bar.StopTask();
            }
        }
    }

    private static void ReportFinished(IReadOnlyList<MapInfo> maps, HashSet<string> reported)
    {
        foreach (var map in maps.Where(m => (m.Finished || m.Cancelled) && reported.Add(m.MapId)).OrderBy(m => m.CreatedAt))
        {
            AnsiConsole.MarkupLine(Markup.Escape(
                $"{map.FunctionName}.map: {map.Outputs:N0} of {map.Total ?? map.InputsQueued:N0} inputs done, {map.Failures:N0} failed{(map.Cancelled ? " (cancelled)" : "")}"));
        }
    }
}
