using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary>
/// <c>modal run PROJECT</c>: deploy the app as ephemeral, run its local entrypoint here (its remote calls go to the
/// platform) while printing what its functions print in their containers, then stop the app.
/// </summary>
public sealed class RunCommand : AsyncCommand<ProjectSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProjectSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        var (output, deployment) = await DeployCommand.DeployProjectAsync(client, settings.Project, ephemeral: true, cancellationToken);
        AnsiConsole.MarkupLine($"[green]Running[/] [bold]{Markup.Escape(deployment.App.Name)}[/] (ephemeral).");
        try
        {
            var entry = Path.Combine(output, deployment.Bundle.Manifest.EntryAssembly);
            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(entry);
            start.Environment[ModalCredentials.ServerUrlVariable] = settings.ServerUrl.ToString();
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start 'dotnet {entry}'.");
            // The entrypoint's own output goes through the same console as the logs and the map progress bars.
            var console = new RunConsole(client, deployment.App.Name);
            process.OutputDataReceived += (_, e) => WriteIfAny(console, e.Data, error: false);
            process.ErrorDataReceived += (_, e) => WriteIfAny(console, e.Data, error: true);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var stopFollowing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var follow = FollowLogsAsync(client, deployment.App.Name, console, stopFollowing.Token);
            var exited = process.WaitForExitAsync(cancellationToken);
            // Lines of the last calls reach the log within a shipping interval; give them a moment.
            var settled = exited.ContinueWith(_ => Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None), TaskScheduler.Default).Unwrap();
            await console.ShowAsync(settled, cancellationToken);
            await stopFollowing.CancelAsync();
            await follow;
            return process.ExitCode;
        }
        finally
        {
            await client.Apps.StopAsync(deployment.App.Name, CancellationToken.None);
            AnsiConsole.MarkupLine($"Stopped [bold]{Markup.Escape(deployment.App.Name)}[/].");
        }
    }

    private static void WriteIfAny(RunConsole console, string? line, bool error)
    {
        if (line is not null)
        {
            console.Write(error ? $"[red]{Markup.Escape(line)}[/]" : Markup.Escape(line));
        }
    }

    private static async Task FollowLogsAsync(ModalClient client, string app, RunConsole console, CancellationToken cancellationToken)
    {
        try
        {
            await AppLogPrinter.ReadAsync(client, app, follow: true, console.Write, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The entrypoint ended.
        }
        catch (HttpRequestException e)
        {
            console.Write($"[yellow]Stopped following the app's logs: {Markup.Escape(e.Message)}[/]");
        }
    }
}
