using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using static Modal.Cli.Commands.StorageObjectOutput;

namespace Modal.Cli.Commands;

/// <summary>Settings of Queue commands that act on one partition.</summary>
public class QueuePartitionSettings : ObjectNameSettings
{
    [CommandOption("-p|--partition <KEY>")]
    [Description("The partition (default: the default partition).")]
    public string? Partition { get; init; }
}

/// <summary><c>modal queue create NAME</c>: creates a Queue (nothing happens when it exists).</summary>
public sealed class QueueCreateCommand : AsyncCommand<ObjectNameSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, ObjectNameSettings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        var info = await Queue.FromName(client, settings.Name, createIfMissing: true).InfoAsync(cancellationToken);
        AnsiConsole.MarkupLine($"Queue [green]{Markup.Escape(info.Name)}[/] is ready.");
        return 0;
    });
}

/// <summary><c>modal queue list</c>: a table of the workspace's Queues.</summary>
public sealed class QueueListCommand : AsyncCommand<ServerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServerSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        WriteList(await Queue.ListAsync(client, cancellationToken));
        return 0;
    }
}

/// <summary><c>modal queue peek NAME [N]</c>: the next items, without removing them.</summary>
public sealed class QueuePeekCommand : AsyncCommand<QueuePeekCommand.Settings>
{
    public sealed class Settings : QueuePartitionSettings
    {
        [CommandArgument(1, "[N]")]
        [Description("How many items to show (default 1).")]
        public int Count { get; init; } = 1;
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        await foreach (var item in Queue.FromName(client, settings.Name).IterateAsync<System.Text.Json.JsonElement>(settings.Partition, cancellationToken)
            .Take(settings.Count).WithCancellation(cancellationToken))
        {
            AnsiConsole.MarkupLine(Json(item));
        }
        return 0;
    });
}

/// <summary><c>modal queue len NAME</c>: items in a partition, or with <c>--total</c> in all.</summary>
public sealed class QueueLenCommand : AsyncCommand<QueueLenCommand.Settings>
{
    public sealed class Settings : QueuePartitionSettings
    {
        [CommandOption("-t|--total")]
        [Description("Count every partition.")]
        public bool Total { get; init; }
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        AnsiConsole.WriteLine(await Queue.FromName(client, settings.Name).LenAsync(settings.Partition, settings.Total, cancellationToken));
        return 0;
    });
}

/// <summary><c>modal queue clear NAME</c>: empties a partition, or with <c>--all</c> every partition.</summary>
public sealed class QueueClearCommand : AsyncCommand<QueueClearCommand.Settings>
{
    public sealed class Settings : QueuePartitionSettings
    {
        [CommandOption("-a|--all")]
        [Description("Empty every partition.")]
        public bool All { get; init; }

        [CommandOption("-y|--yes")]
        [Description("Do not ask for confirmation.")]
        public bool Yes { get; init; }
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        if (!Confirmed(settings.Yes, $"Remove the items of Queue '{settings.Name}'{(settings.All ? " in every partition" : "")}"))
        {
            return 1;
        }
        using var client = settings.Connect();
        await Queue.FromName(client, settings.Name).ClearAsync(settings.Partition, settings.All, cancellationToken);
        AnsiConsole.MarkupLine($"Cleared Queue [green]{Markup.Escape(settings.Name)}[/].");
        return 0;
    });
}

/// <summary><c>modal queue delete NAME</c>: deletes the Queue with its items.</summary>
public sealed class QueueDeleteCommand : AsyncCommand<DestructiveSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, DestructiveSettings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        if (!Confirmed(settings, $"Delete Queue '{settings.Name}' and its items"))
        {
            return 1;
        }
        using var client = settings.Connect();
        await Queue.DeleteAsync(client, settings.Name, cancellationToken);
        AnsiConsole.MarkupLine($"Deleted Queue [green]{Markup.Escape(settings.Name)}[/].");
        return 0;
    });
}
