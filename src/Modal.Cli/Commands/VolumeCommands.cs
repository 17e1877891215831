using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using static Modal.Cli.Commands.StorageObjectOutput;

namespace Modal.Cli.Commands;

/// <summary><c>modal volume create NAME</c>: creates a Volume (nothing happens when it exists).</summary>
public sealed class VolumeCreateCommand : AsyncCommand<ObjectNameSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, ObjectNameSettings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        var info = await Volume.FromName(client, settings.Name, createIfMissing: true).InfoAsync(cancellationToken);
        AnsiConsole.MarkupLine($"Volume [green]{Markup.Escape(info.Name)}[/] is ready.");
        return 0;
    });
}

/// <summary><c>modal volume list</c>: a table of the workspace's Volumes.</summary>
public sealed class VolumeListCommand : AsyncCommand<ServerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServerSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        WriteList(await Volume.ListAsync(client, cancellationToken));
        return 0;
    }
}

/// <summary>A Volume and a path in it.</summary>
public class VolumePathSettings : ObjectNameSettings
{
    [CommandArgument(1, "[PATH]")]
    [Description("A path in the Volume (default: its root).")]
    public string Path { get; init; } = "/";

    [CommandOption("-r|--recursive")]
    [Description("Act on folders and everything below them.")]
    public bool Recursive { get; init; }
}

/// <summary><c>modal volume ls NAME [PATH]</c>: a table of the files and folders in a folder.</summary>
public sealed class VolumeLsCommand : AsyncCommand<VolumePathSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, VolumePathSettings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        var table = new Table().AddColumns("Path", "Type", "Size", "Modified");
        foreach (var entry in await Volume.FromName(client, settings.Name).ListDirAsync(settings.Path, settings.Recursive, cancellationToken))
        {
            table.AddRow(Markup.Escape(entry.Path), entry.Type, entry.IsDirectory ? "" : entry.Size.ToString("N0", System.Globalization.CultureInfo.CurrentCulture),
                entry.Modified.ToLocalTime().ToString("u", System.Globalization.CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        return 0;
    });
}

/// <summary><c>modal volume put NAME LOCAL [REMOTE]</c>: uploads a file or a folder.</summary>
public sealed class VolumePutCommand : AsyncCommand<VolumePutCommand.Settings>
{
    public sealed class Settings : ObjectNameSettings
    {
        [CommandArgument(1, "<LOCAL>")]
        [Description("A local file or folder.")]
        public string Local { get; init; } = "";

        [CommandArgument(2, "[REMOTE]")]
        [Description("Where in the Volume (default: the root; a path ending in '/' is a folder to put a file into).")]
        public string Remote { get; init; } = "/";

        [CommandOption("-f|--force")]
        [Description("Replace files that exist.")]
        public bool Force { get; init; }
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        var batch = Volume.FromName(client, settings.Name).BatchUpload(settings.Force);
        if (Directory.Exists(settings.Local))
        {
            batch.PutDirectory(settings.Local, settings.Remote);
        }
        else
        {
            batch.PutFile(settings.Local, settings.Remote.EndsWith('/') ? settings.Remote + Path.GetFileName(settings.Local) : settings.Remote);
        }
        var version = await batch.CommitAsync(cancellationToken);
        AnsiConsole.MarkupLine($"Uploaded [green]{Markup.Escape(settings.Local)}[/]; Volume {Markup.Escape(settings.Name)} now holds {version.FileCount} files.");
        return 0;
    });
}

/// <summary><c>modal volume get NAME REMOTE [LOCAL]</c>: downloads a file ("-" writes it to standard output).</summary>
public sealed class VolumeGetCommand : AsyncCommand<VolumeGetCommand.Settings>
{
    public sealed class Settings : ObjectNameSettings
    {
        [CommandArgument(1, "<REMOTE>")]
        [Description("The file in the Volume.")]
        public string Remote { get; init; } = "";

        [CommandArgument(2, "[LOCAL]")]
        [Description("Where to write it (default: its name in the current folder; '-' for standard output).")]
        public string? Local { get; init; }
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        var volume = Volume.FromName(client, settings.Name);
        if (settings.Local == "-")
        {
            await using var stdout = Console.OpenStandardOutput();
            await volume.ReadFileIntoAsync(settings.Remote, stdout, cancellationToken);
            return 0;
        }
        var local = settings.Local ?? Path.GetFileName(settings.Remote.TrimEnd('/'));
        await using (var file = File.Create(local))
        {
            await volume.ReadFileIntoAsync(settings.Remote, file, cancellationToken);
        }
        AnsiConsole.MarkupLine($"Wrote [green]{Markup.Escape(local)}[/].");
        return 0;
    });
}

/// <summary><c>modal volume rm NAME PATH [-r]</c>: removes a file or folder.</summary>
public sealed class VolumeRmCommand : AsyncCommand<VolumePathSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, VolumePathSettings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        await Volume.FromName(client, settings.Name).RemoveFileAsync(settings.Path, settings.Recursive, cancellationToken);
        AnsiConsole.MarkupLine($"Removed [green]{Markup.Escape(settings.Path)}[/].");
        return 0;
    });
}

/// <summary><c>modal volume cp NAME SOURCE... DESTINATION [-r]</c>: copies inside the Volume with cp semantics.</summary>
public sealed class VolumeCpCommand : AsyncCommand<VolumeCpCommand.Settings>
{
    public sealed class Settings : ObjectNameSettings
    {
        [CommandArgument(1, "<PATHS>")]
        [Description("Sources, then the destination.")]
        public string[] Paths { get; init; } = [];

        [CommandOption("-r|--recursive")]
        [Description("Copy folders.")]
        public bool Recursive { get; init; }
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        if (settings.Paths.Length < 2)
        {
            AnsiConsole.MarkupLine("[red]Name at least one source and a destination.[/]");
            return 1;
        }
        using var client = settings.Connect();
        await Volume.FromName(client, settings.Name).CopyFilesAsync(settings.Paths[..^1], settings.Paths[^1], settings.Recursive, cancellationToken);
        AnsiConsole.MarkupLine($"Copied to [green]{Markup.Escape(settings.Paths[^1])}[/].");
        return 0;
    });
}

/// <summary><c>modal volume rename NAME NEW-NAME</c>.</summary>
public sealed class VolumeRenameCommand : AsyncCommand<VolumeRenameCommand.Settings>
{
    public sealed class Settings : ObjectNameSettings
    {
        [CommandArgument(1, "<NEW-NAME>")]
        [Description("The new name.")]
        public string NewName { get; init; } = "";
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        using var client = settings.Connect();
        await Volume.RenameAsync(client, settings.Name, settings.NewName, cancellationToken);
        AnsiConsole.MarkupLine($"Renamed Volume {Markup.Escape(settings.Name)} to [green]{Markup.Escape(settings.NewName)}[/].");
        return 0;
    });
}

/// <summary><c>modal volume delete NAME</c>: deletes the Volume.</summary>
public sealed class VolumeDeleteCommand : AsyncCommand<DestructiveSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, DestructiveSettings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        if (!Confirmed(settings, $"Delete Volume '{settings.Name}' and its files"))
        {
            return 1;
        }
        using var client = settings.Connect();
        await Volume.DeleteAsync(client, settings.Name, cancellationToken);
        AnsiConsole.MarkupLine($"Deleted Volume [green]{Markup.Escape(settings.Name)}[/].");
        return 0;
    });
}
