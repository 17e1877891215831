using Modal.Deployment;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary><c>modal deploy PROJECT</c>: build, upload what changed, register; the app persists until stopped.</summary>
public sealed class DeployCommand : AsyncCommand<ProjectSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ProjectSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        var (_, result) = await DeployProjectAsync(client, settings.Project, ephemeral: false, cancellationToken);

        var table = new Table().AddColumns("Function", "Parameters", "Id");
        foreach (var function in result.App.Functions)
        {
            table.AddRow(Markup.Escape(function.Name), Markup.Escape(string.Join(", ", function.Parameters.Select(p => $"{p.Type} {p.Name}"))),
                function.Id.ToString());
        }
        AnsiConsole.MarkupLine($"[green]Deployed[/] app [bold]{Markup.Escape(result.App.Name)}[/] ({Markup.Escape(result.App.Id)}, " +
            $"version {result.App.Version}; bundle {result.Bundle.Id[..12]}, {result.Bundle.Manifest.Files.Count} files, {result.UploadedBlobs} uploaded).");
        AnsiConsole.Write(table);
        WriteWebUrls(result.App.Functions);
        foreach (var function in result.App.Functions.Where(f => f.Schedule is not null))
        {
            AnsiConsole.MarkupLine($"[green]✓[/] Scheduled function [bold]{Markup.Escape(function.Name)}[/]: {Markup.Escape(function.Schedule!)}");
        }
        return 0;
    }

    /// <summary>Each web endpoint's URL, as Modal prints them: <c>Created web function NAME => URL</c>.</summary>
    internal static void WriteWebUrls(IEnumerable<Modal.Api.Contracts.Apps.DeployedFunctionInfo> functions)
    {
        foreach (var function in functions.Where(f => f.WebUrl is not null))
        {
            AnsiConsole.MarkupLine($"[green]✓[/] Created web function [bold]{Markup.Escape(function.Name)}[/] => [link]{Markup.Escape(function.WebUrl!)}[/]");
        }
    }

    /// <summary>Publishes and deploys; returns the publish folder (where the entrypoint runs from) and the deployment.</summary>
    internal static async Task<(string Output, DeploymentResult Result)> DeployProjectAsync(
        ModalClient client, string project, bool ephemeral, CancellationToken cancellationToken) =>
        await AnsiConsole.Status().StartAsync("Building…", async status =>
        {
            var output = await ProjectPublisher.PublishAsync(project, cancellationToken);
            status.Status("Uploading and registering…");
            status.Status("Building images, uploading and registering…");
            // The image build log streams as it comes, so a long apt-get shows progress and a failure its cause.
            return (output, await AppDeployer.DeployAsync(client, output, AppDeployer.FindEntryAssembly(output), ephemeral,
                line => AnsiConsole.WriteLine(line), cancellationToken));
        });
}
