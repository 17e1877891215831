using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary><c>modal workspace list</c>: a table of the platform's workspaces.</summary>
public sealed class WorkspaceListCommand : AsyncCommand<ServerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServerSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        var workspaces = await client.Workspaces.ListAsync(cancellationToken);

        var table = new Table().AddColumns("Name", "Id", "Created");
        foreach (var workspace in workspaces)
        {
            table.AddRow(Markup.Escape(workspace.Name), workspace.Id.ToString(), workspace.CreatedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
