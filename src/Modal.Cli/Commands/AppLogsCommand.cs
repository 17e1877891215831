using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary>Settings of <c>modal app logs</c>.</summary>
public sealed class AppLogsSettings : ServerSettings
{
    [CommandArgument(0, "<APP>")]
    [Description("The app's name.")]
    public string App { get; init; } = "";

    [CommandOption("-f|--follow")]
    [Description("Keep printing new lines until interrupted.")]
    public bool Follow { get; init; }
}

/// <summary><c>modal app logs APP</c>: what the app's functions printed, across calls.</summary>
public sealed class AppLogsCommand : AsyncCommand<AppLogsSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, AppLogsSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        try
        {
            await AppLogPrinter.PrintAsync(client, settings.App, settings.Follow, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C ends a follow.
        }
        return 0;
    }
}

/// <summary>Prints an app's log lines as <c>[function] text</c>, stderr in red; optionally follows new ones.</summary>
internal static class AppLogPrinter
{
    public static Task PrintAsync(ModalClient client, string app, bool follow, CancellationToken cancellationToken) =>
        ReadAsync(client, app, follow, AnsiConsole.MarkupLine, cancellationToken);

    /// <summary>Hands each log line of the app, as markup, to <paramref name="write"/> (following new lines when asked).</summary>
    public static async Task ReadAsync(ModalClient client, string app, bool follow, Action<string> write, CancellationToken cancellationToken)
    {
        string? after = null;
        while (true)
        {
            var page = await client.Apps.GetLogsAsync(app, after, follow ? 20 : 0, cancellationToken);
            foreach (var line in page.Lines)
            {
                var text = Markup.Escape(line.Text);
                write($"[grey][[{Markup.Escape(line.Function)}]][/] {(line.Stream == "stderr" ? $"[red]{text}[/]" : text)}");
            }
            after = page.Next ?? after;
            if (!follow && page.Lines.Count == 0)
            {
                return;
            }
        }
    }
}
