using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary><c>modal image list</c>: the workspace's images with their definition, size and last use.</summary>
public sealed class ImageListCommand : AsyncCommand<ServerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServerSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        var images = await client.Images.ListAsync(cancellationToken);

        var table = new Table().AddColumns("Id", "Definition", "Size", "Built", "Last used");
        foreach (var image in images)
        {
            table.AddRow(image.ImageId[..16], Markup.Escape(image.Definition), $"{image.SizeBytes / (1024.0 * 1024):F1} MiB",
                image.BuiltAt.ToString("u", CultureInfo.InvariantCulture), image.LastUsedAt.ToString("u", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}
