using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary><c>modal endpoint list</c>: the web endpoints of the workspace's running apps, with their URLs.</summary>
public sealed class EndpointListCommand : AsyncCommand<ServerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServerSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        var endpoints = await client.WebEndpoints.ListAsync(cancellationToken);

        var table = new Table().AddColumns("App", "Function", "Kind", "URL", "Path URL", "Proxy auth");
        foreach (var endpoint in endpoints.Endpoints.OrderBy(e => e.App, StringComparer.Ordinal).ThenBy(e => e.Function, StringComparer.Ordinal))
        {
            table.AddRow(Markup.Escape(endpoint.App), Markup.Escape(endpoint.Function), Markup.Escape(endpoint.Kind),
                Markup.Escape(endpoint.Url), Markup.Escape(endpoint.PathUrl), endpoint.RequiresProxyAuth ? "required" : "no");
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
