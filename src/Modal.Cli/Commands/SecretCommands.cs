using System.ComponentModel;
using System.Globalization;
using Spectre.Console;
using Spectre.Console.Cli;
using static Modal.Cli.Commands.StorageObjectOutput;
using Modal.Api.Contracts.Secrets;

namespace Modal.Cli.Commands;

/// <summary>
/// <c>modal secret create NAME KEY=VALUE… [--allow-existing | --force]</c>: creates a secret. Values are sent once and
/// never printed; note that values on a command line are visible to the shell's history.
/// </summary>
public sealed class SecretCreateCommand : AsyncCommand<SecretCreateCommand.Settings>
{
    public sealed class Settings : ObjectNameSettings
    {
        [CommandArgument(1, "<KEY=VALUE>")]
        [Description("The secret's variables, each as KEY=VALUE.")]
        public string[] Pairs { get; init; } = [];

        [CommandOption("--allow-existing")]
        [Description("Succeed without changing anything when the secret exists.")]
        public bool AllowExisting { get; init; }

        [CommandOption("--force")]
        [Description("Replace the values of an existing secret.")]
        public bool Force { get; init; }

        public override ValidationResult Validate() =>
            Pairs.FirstOrDefault(p => p.IndexOf('=', StringComparison.Ordinal) <= 0) is { } bad
                ? ValidationResult.Error($"'{bad.Split('=')[0]}' is not KEY=VALUE.")
                : AllowExisting && Force ? ValidationResult.Error("Use --allow-existing or --force, not both.") : ValidationResult.Success();
    }

    public override Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in settings.Pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            values[pair[..equals]] = pair[(equals + 1)..];
        }
        using var client = settings.Connect();
        var info = settings.Force
            ? await client.Secrets.ReplaceAsync(settings.Name, new SecretValuesRequest(values), cancellationToken)
            : await Secret.CreateAsync(client, settings.Name, values, settings.AllowExisting, cancellationToken);
        AnsiConsole.MarkupLine($"Secret [green]{Markup.Escape(info.Name)}[/] has keys {Markup.Escape(string.Join(", ", info.Keys))}.");
        return 0;
    });
}

/// <summary><c>modal secret list</c>: the workspace's secrets with their key names (never values).</summary>
public sealed class SecretListCommand : AsyncCommand<ServerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServerSettings settings, CancellationToken cancellationToken)
    {
        using var client = settings.Connect();
        var table = new Table().AddColumns("Name", "Keys", "Created", "Updated");
        foreach (var secret in await Secret.ListAsync(client, cancellationToken))
        {
            table.AddRow(Markup.Escape(secret.Name), Markup.Escape(string.Join(", ", secret.Keys)),
                secret.CreatedAt.ToString("u", CultureInfo.InvariantCulture), secret.UpdatedAt.ToString("u", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        return 0;
    }
}

/// <summary><c>modal secret delete NAME</c>: deletes a secret; functions using it fail to start until it exists again.</summary>
public sealed class SecretDeleteCommand : AsyncCommand<DestructiveSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, DestructiveSettings settings, CancellationToken cancellationToken) => RunAsync(async () =>
    {
        if (!Confirmed(settings, $"Delete secret '{settings.Name}'"))
        {
            return 1;
        }
        using var client = settings.Connect();
        await Secret.DeleteAsync(client, settings.Name, cancellationToken);
        AnsiConsole.MarkupLine($"Deleted secret [green]{Markup.Escape(settings.Name)}[/].");
        return 0;
    });
}
