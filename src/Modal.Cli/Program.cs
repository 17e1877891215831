using Modal.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("modal");
    config.AddCommand<DeployCommand>("deploy").WithDescription("Build the app's project, upload it and deploy it until stopped.");
    config.AddCommand<RunCommand>("run").WithDescription("Deploy the app for this run only and run its local entrypoint.");
    config.AddBranch("workspace", workspace =>
    {
        workspace.SetDescription("Workspaces of the platform.");
        workspace.AddCommand<WorkspaceListCommand>("list").WithDescription("List workspaces.");
    });
});
return await app.RunAsync(args);
