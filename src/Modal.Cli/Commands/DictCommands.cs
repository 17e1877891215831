using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using static Modal.Cli.Commands.StorageObjectOutput;

namespace Modal.Cli.Commands;

/// <summary><c>modal dict create NAME</c>: creates a Dict (nothing happens when it exists).</summary>
public sealed class DictCreateCommand : AsyncCommand<ObjectNameSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, ObjectNameSettings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        var info = await Dict.FromName(client, settings.Name, createIfMissing: true).InfoAsync(cancellationToken);
        AnsiConsole.MarkupLine($"Dict [green]{Markup.Escape(info.Name)}[/] is ready.");
        return 0;
    });
}

/// <summary><c>modal dict list</c>: a table of the workspace's Dicts.</summary>
public sealed class DictListCommand : AsyncCommand<ServerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServerSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        WriteList(await Dict.ListAsync(client, cancellationToken));
        return 0;
    }
}

/// <summary><c>modal dict get NAME KEY</c>: prints one value as JSON.</summary>
public sealed class DictGetCommand : AsyncCommand<DictGetCommand.Settings>
{
    public sealed class Settings : ObjectNameSettings
    {
        [CommandArgument(1, "<KEY>")]
        [Description("The key.")]
        public string Key { get; init; } = "";
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        var value = await Dict.FromName(client, settings.Name).GetAsync<System.Text.Json.JsonElement?>(settings.Key, null, cancellationToken);
        if (value is null)
        {
            AnsiConsole.MarkupLine($"[red]Dict '{Markup.Escape(settings.Name)}' has no key '{Markup.Escape(settings.Key)}'.[/]");
            return 1;
        }
        AnsiConsole.MarkupLine(Json(value.Value));
        return 0;
    });
}

/// <summary><c>modal dict items NAME [N]</c>: a table of the first entries (in no order).</summary>
public sealed class DictItemsCommand : AsyncCommand<DictItemsCommand.Settings>
{
    public sealed class Settings : ObjectNameSettings
    {
        [CommandArgument(1, "[N]")]
        [Description("How many entries to show (default 20).")]
        public int Count { get; init; } = 20;
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        var table = new Table().AddColumns("Key", "Value");
        await foreach (var (key, value) in Dict.FromName(client, settings.Name).ItemsAsync<System.Text.Json.JsonElement>(cancellationToken)
            .Take(settings.Count).WithCancellation(cancellationToken))
        {
            table.AddRow(Markup.Escape(key), Json(value));
        }
        AnsiConsole.Write(table);
        return 0;
    });
}

/// <summary><c>modal dict clear NAME</c>: removes every entry.</summary>
public sealed class DictClearCommand : AsyncCommand<DestructiveSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, DestructiveSettings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        if (!Confirmed(settings, $"Remove every entry of Dict '{settings.Name}'"))
        {
            return 1;
        }
        using var client = settings.Connect();
        await Dict.FromName(client, settings.Name).ClearAsync(cancellationToken);
        AnsiConsole.MarkupLine($"Cleared Dict [green]{Markup.Escape(settings.Name)}[/].");
        return 0;
    });
}

/// <summary><c>modal dict delete NAME</c>: deletes the Dict with its entries.</summary>
public sealed class DictDeleteCommand : AsyncCommand<DestructiveSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, DestructiveSettings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        if (!Confirmed(settings, $"Delete Dict '{settings.Name}' and its entries"))
        {
            return 1;
        }
        using var client = settings.Connect();
        await Dict.DeleteAsync(client, settings.Name, cancellationToken);
        AnsiConsole.MarkupLine($"Deleted Dict [green]{Markup.Escape(settings.Name)}[/].");
        return 0;
    });
}
