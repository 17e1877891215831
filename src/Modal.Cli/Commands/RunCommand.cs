using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary>
/// <c>modal run PROJECT</c>: deploy the app as ephemeral, run its local entrypoint here (its remote calls go to the
/// platform), then stop the app.
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
            await process.WaitForExitAsync(cancellationToken);
            return process.ExitCode;
        }
        finally
        {
            await client.Apps.StopAsync(deployment.App.Name, CancellationToken.None);
            AnsiConsole.MarkupLine($"Stopped [bold]{Markup.Escape(deployment.App.Name)}[/].");
        }
    }
}
