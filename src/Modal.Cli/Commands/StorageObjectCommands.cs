using System.ComponentModel;
using System.Globalization;
using Modal.Api.Contracts.Objects;
using Modal.Rest;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary>Settings of commands that act on one named Dict, Queue or Secret.</summary>
public class ObjectNameSettings : ServerSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("The object's name (1-64 letters, digits, '-', '_' or '.').")]
    public string Name { get; init; } = "";
}

/// <summary>Settings of commands that destroy data and ask first.</summary>
public class DestructiveSettings : ObjectNameSettings
{
    [CommandOption("-y|--yes")]
    [Description("Do not ask for confirmation.")]
    public bool Yes { get; init; }
}

/// <summary>What the Dict and Queue commands share: listing tables, confirmation, printing JSON.</summary>
internal static class StorageObjectOutput
{
    public static void WriteList(IReadOnlyList<StorageObjectInfo> objects)
    {
        var table = new Table().AddColumns("Name", "Created", "Ephemeral");
        foreach (var item in objects)
        {
            table.AddRow(Markup.Escape(item.Name), item.CreatedAt.ToString("u", CultureInfo.InvariantCulture), item.Ephemeral ? "yes" : "no");
        }
        AnsiConsole.Write(table);
    }

    public static bool Confirmed(DestructiveSettings settings, string what) => Confirmed(settings.Yes, what);

    public static bool Confirmed(bool yes, string what) => yes || AnsiConsole.Confirm($"{Markup.Escape(what)}?", defaultValue: false);

    public static string Json(System.Text.Json.JsonElement value) => Markup.Escape(value.GetRawText());

    /// <summary>Runs a command body, printing the platform's "not found" as an error line with exit code 1 instead of a stack trace.</summary>
    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is NotFoundException or ArgumentException or RequestSizeException or AlreadyExistsException)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return 1;
        }
    }
}
