using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary>Settings of <c>modal app schedules</c>.</summary>
public sealed class AppSchedulesSettings : ServerSettings
{
    [CommandArgument(0, "<APP>")]
    [Description("The app's name (or id).")]
    public string App { get; init; } = "";
}

/// <summary><c>modal app schedules APP</c>: each scheduled function, when it fires next, and the calls its last firings made.</summary>
public sealed class AppSchedulesCommand : AsyncCommand<AppSchedulesSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, AppSchedulesSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        var schedules = await client.Apps.ListSchedulesAsync(settings.App, cancellationToken);
        if (schedules.Functions.Count == 0)
        {
            AnsiConsole.MarkupLine($"App [bold]{Markup.Escape(schedules.App)}[/] has no active schedules (only a deployed app's functions run on theirs).");
            return 0;
        }
        var table = new Table().AddColumns("Function", "Schedule", "Next firings (UTC)", "Last firings");
        foreach (var function in schedules.Functions)
        {
            var next = function.NextFireTimes.Count == 0
                ? "(not registered yet)"
                : string.Join('\n', function.NextFireTimes.Take(3).Select(t => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)));
            var last = function.LastFirings.Count == 0
                ? "(none yet)"
                : string.Join('\n', function.LastFirings.Take(3).Select(f =>
                    $"{f.ScheduledAt.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {f.FunctionCallId} {f.State}"));
            table.AddRow(Markup.Escape(function.Function), Markup.Escape(function.Schedule), Markup.Escape(next), Markup.Escape(last));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
