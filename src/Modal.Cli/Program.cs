using Modal.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("modal");
    config.AddBranch("workspace", workspace =>
    {
        workspace.SetDescription("Workspaces of the platform.");
        workspace.AddCommand<WorkspaceListCommand>("list").WithDescription("List workspaces.");
    });
});
return await app.RunAsync(args);
