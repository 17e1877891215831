using System.ComponentModel;
using System.Globalization;
using System.Net;
using Modal.Api.Contracts.Web;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary>
/// <c>modal workspace proxy-tokens create [--name NAME]</c>: creates a proxy-auth token and prints its id and secret,
/// the secret for the only time, with the headers a client sends to an endpoint that requires proxy auth.
/// </summary>
public sealed class ProxyTokenCreateCommand : AsyncCommand<ProxyTokenCreateCommand.Settings>
{
    public sealed class Settings : ServerSettings
    {
        [CommandOption("--name <NAME>")]
        [Description("A name to tell the token apart (at most 100 characters).")]
        public string? Name { get; init; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        var token = await client.ProxyTokens.CreateAsync(new CreateProxyTokenRequest(settings.Name), cancellationToken);

        AnsiConsole.MarkupLine($"Created proxy token [green]{Markup.Escape(token.Id)}[/]{(token.Name is { } name ? $" ({Markup.Escape(name)})" : "")}.");
        AnsiConsole.MarkupLine($"Token ID:     {Markup.Escape(token.Id)}");
        AnsiConsole.MarkupLine($"Token secret: {Markup.Escape(token.Secret ?? "")}");
        AnsiConsole.MarkupLine("[yellow]The secret is shown only now; store it safely.[/] Send both with each request to an endpoint that requires proxy auth:");
        AnsiConsole.MarkupLine($"  {WebHeaders.ProxyKey}: {Markup.Escape(token.Id)}");
        AnsiConsole.MarkupLine($"  {WebHeaders.ProxySecret}: {Markup.Escape(token.Secret ?? "")}");
        return 0;
    }
}

/// <summary><c>modal workspace proxy-tokens list</c>: the workspace's proxy-auth tokens, newest first (never secrets).</summary>
public sealed class ProxyTokenListCommand : AsyncCommand<ServerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServerSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        var tokens = await client.ProxyTokens.ListAsync(cancellationToken);

        var table = new Table().AddColumns("Id", "Name", "Created");
        foreach (var token in tokens.Tokens)
        {
            table.AddRow(Markup.Escape(token.Id), Markup.Escape(token.Name ?? ""), token.CreatedAt.ToString("u", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}

/// <summary><c>modal workspace proxy-tokens delete ID</c>: deletes a proxy-auth token; endpoints refuse it at once.</summary>
public sealed class ProxyTokenDeleteCommand : AsyncCommand<ProxyTokenDeleteCommand.Settings>
{
    public sealed class Settings : ServerSettings
    {
        [CommandArgument(0, "<ID>")]
        [Description("The token's id (wk-…), as `modal workspace proxy-tokens list` shows it.")]
        public string Id { get; init; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        try
        {
            await client.ProxyTokens.DeleteAsync(settings.Id, cancellationToken);
        }
        catch (Refit.ApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            AnsiConsole.MarkupLine($"[red]No proxy token '{Markup.Escape(settings.Id)}' in this workspace.[/]");
            return 1;
        }
        AnsiConsole.MarkupLine($"Deleted proxy token [green]{Markup.Escape(settings.Id)}[/].");
        return 0;
    }
}
