using System.Diagnostics;
using Modal.Container.Protocol;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary>
/// <c>modal run PROJECT</c>: create an ephemeral app of the project (an app of its own, even beside a deployed app of
/// the same name), run its local entrypoint here (its remote calls go to that app) while printing what its functions
/// print in their containers, then stop the app.
/// </summary>
public sealed class RunCommand : AsyncCommand<ProjectSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProjectSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        var (output, deployment) = await DeployCommand.DeployProjectAsync(client, settings.Project, ephemeral: true, cancellationToken);
        var app = deployment.App;
        AnsiConsole.MarkupLine($"[green]Running[/] [bold]{Markup.Escape(app.Name)}[/] (ephemeral app {Markup.Escape(app.Id)}).");
        DeployCommand.WriteWebUrls(app.Functions);
        if (deployment.Manifest?.Functions.Where(f => f.Schedule is not null).Select(f => f.Name).ToList() is { Count: > 0 } scheduled)
        {
            // As Modal: a run is not a deployment, so nothing fires by itself.
            AnsiConsole.MarkupLine($"[yellow]Note:[/] schedules are not active under [bold]modal run[/] ({Markup.Escape(string.Join(", ", scheduled))}); " +
                "deploy the app with [bold]modal deploy[/] to run them on their schedules.");
        }
        try
        {
            var entry = Path.Combine(output, deployment.Bundle.Manifest.EntryAssembly);
            var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(entry);
            start.Environment[ModalCredentials.ServerUrlVariable] = settings.ServerUrl.ToString();
            // The entrypoint's calls of its app's functions go to this run's app, not to a deployed app of its name.
            start.Environment[ContainerProtocol.AppIdVariable] = app.Id;
            start.Environment[ContainerProtocol.AppNameVariable] = app.Name;
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start 'dotnet {entry}'.");
            // The entrypoint's own output goes through the same console as the logs and the map progress bars.
            var console = new RunConsole(client, app.Id);
            process.OutputDataReceived += (_, e) => WriteIfAny(console, e.Data, error: false);
            process.ErrorDataReceived += (_, e) => WriteIfAny(console, e.Data, error: true);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var stopFollowing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var follow = FollowLogsAsync(client, app.Id, console, stopFollowing.Token);
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
            await client.Apps.StopAsync(app.Id, CancellationToken.None);
            AnsiConsole.MarkupLine($"Stopped [bold]{Markup.Escape(app.Name)}[/] ({Markup.Escape(app.Id)}).");
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
