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
            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false };
            start.ArgumentList.Add(entry);
            start.Environment[ModalCredentials.ServerUrlVariable] = settings.ServerUrl.ToString();
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start 'dotnet {entry}'.");
            using var stopFollowing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var follow = FollowLogsAsync(client, deployment.App.Name, stopFollowing.Token);
            await process.WaitForExitAsync(cancellationToken);
            // Lines of the last calls reach the log within a shipping interval; give them a moment.
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
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

    private static async Task FollowLogsAsync(ModalClient client, string app, CancellationToken cancellationToken)
    {
        try
        {
            await AppLogPrinter.PrintAsync(client, app, follow: true, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The entrypoint ended.
        }
        catch (HttpRequestException e)
        {
            AnsiConsole.MarkupLine($"[yellow]Stopped following the app's logs: {Markup.Escape(e.Message)}[/]");
        }
    }
}
