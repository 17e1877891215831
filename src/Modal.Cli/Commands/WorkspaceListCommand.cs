using System.ComponentModel;
using Modal.Rest;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary><c>modal workspace list</c>: a table of the platform's workspaces.</summary>
public sealed class WorkspaceListCommand : AsyncCommand<WorkspaceListCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--server <URL>")]
        [Description("Base URL of the Modal API (default: $MODAL_SERVER_URL, else http://127.0.0.1:5080). The token comes from $MODAL_TOKEN_ID and $MODAL_TOKEN_SECRET.")]
        public string? Server { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var server = settings.Server is { Length: > 0 } url ? new Uri(url) : ModalRestClient.ServerFromEnvironment();
        using var http = ModalRestClient.CreateHttpClient(server, ModalCredentials.FromEnvironment());
        var workspaces = await ModalRestClient.For<IWorkspacesApi>(http).ListAsync(cancellationToken);

        var table = new Table().AddColumns("Name", "Id", "Created");
        foreach (var workspace in workspaces)
        {
            table.AddRow(Markup.Escape(workspace.Name), workspace.Id.ToString(), workspace.CreatedAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
