using System.ComponentModel;
using Modal.Rest;
using Spectre.Console.Cli;

namespace Modal.Cli.Commands;

/// <summary>Where the platform is; the token comes from MODAL_TOKEN_ID / MODAL_TOKEN_SECRET.</summary>
public class ServerSettings : CommandSettings
{
    [CommandOption("--server <URL>")]
    [Description("Base URL of the Modal API (default: $MODAL_SERVER_URL, else http://127.0.0.1:5080). The token comes from $MODAL_TOKEN_ID and $MODAL_TOKEN_SECRET.")]
    public string? Server { get; init; }

    public Uri ServerUrl => Server is { Length: > 0 } url ? new Uri(url) : ModalRestClient.ServerFromEnvironment();

    public ModalClient Connect() => new(ServerUrl, ModalCredentials.FromEnvironment());
}

/// <summary>Settings of commands that take a project.</summary>
public class ProjectSettings : ServerSettings
{
    [CommandArgument(0, "<PROJECT>")]
    [Description("The app's project: a .csproj, or the folder that holds one.")]
    public string Project { get; init; } = "";
}
