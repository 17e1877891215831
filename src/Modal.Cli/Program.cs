using Modal.Cli.Commands;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("modal");
    config.AddCommand<DeployCommand>("deploy").WithDescription("Build the app's project, upload it and deploy it until stopped.");
    config.AddCommand<RunCommand>("run").WithDescription("Deploy the app for this run only and run its local entrypoint.");
    config.AddBranch("app", app =>
    {
        app.SetDescription("Deployed apps.");
        app.AddCommand<AppLogsCommand>("logs").WithDescription("Print what the app's functions printed (-f to follow).");
        app.AddCommand<AppSchedulesCommand>("schedules").WithDescription("Show the app's schedules: next fire times and last firings.");
    });
    config.AddBranch("function", function =>
    {
        function.SetDescription("Functions of deployed apps.");
        function.AddCommand<FunctionStatsCommand>("stats").WithDescription("Show a function's backlog and containers, and whether its inputs wait for a GPU.");
    });
    config.AddBranch("image", image =>
    {
        image.SetDescription("Container images built for the workspace's functions.");
        image.AddCommand<ImageListCommand>("list").WithDescription("List images: id, definition, size, last used.");
    });
    config.AddBranch("endpoint", endpoint =>
    {
        endpoint.SetDescription("Web endpoints of running apps.");
        endpoint.AddCommand<EndpointListCommand>("list").WithDescription("List web endpoints with their URLs.");
    });
    config.AddBranch("workspace", workspace =>
    {
        workspace.SetDescription("Workspaces of the platform.");
        workspace.AddCommand<WorkspaceListCommand>("list").WithDescription("List workspaces.");
        workspace.AddBranch("proxy-tokens", tokens =>
        {
            tokens.SetDescription("Proxy-auth tokens: the Modal-Key/Modal-Secret pairs for web endpoints that require proxy auth.");
            tokens.AddCommand<ProxyTokenCreateCommand>("create").WithDescription("Create a token; prints its secret once.");
            tokens.AddCommand<ProxyTokenListCommand>("list").WithDescription("List tokens (never secrets).");
            tokens.AddCommand<ProxyTokenDeleteCommand>("delete").WithDescription("Delete a token; endpoints refuse it at once.");
        });
    });
    config.AddBranch("dict", dict =>
    {
        dict.SetDescription("Dicts: distributed key-value stores of the workspace.");
        dict.AddCommand<DictCreateCommand>("create").WithDescription("Create a Dict.");
        dict.AddCommand<DictListCommand>("list").WithDescription("List Dicts.");
        dict.AddCommand<DictGetCommand>("get").WithDescription("Print the value of one key as JSON.");
        dict.AddCommand<DictItemsCommand>("items").WithDescription("Show entries (in no order).");
        dict.AddCommand<DictClearCommand>("clear").WithDescription("Remove every entry.");
        dict.AddCommand<DictDeleteCommand>("delete").WithDescription("Delete a Dict and its entries.");
    });
    config.AddBranch("queue", queue =>
    {
        queue.SetDescription("Queues: distributed FIFO queues of the workspace.");
        queue.AddCommand<QueueCreateCommand>("create").WithDescription("Create a Queue.");
        queue.AddCommand<QueueListCommand>("list").WithDescription("List Queues.");
        queue.AddCommand<QueuePeekCommand>("peek").WithDescription("Print the next items without removing them.");
        queue.AddCommand<QueueLenCommand>("len").WithDescription("Count the items of a partition, or of all.");
        queue.AddCommand<QueueClearCommand>("clear").WithDescription("Remove the items of a partition, or of all.");
        queue.AddCommand<QueueDeleteCommand>("delete").WithDescription("Delete a Queue and its items.");
    });
    config.AddBranch("volume", volume =>
    {
        volume.SetDescription("Volumes: persistent shared file systems of the workspace.");
        volume.AddCommand<VolumeCreateCommand>("create").WithDescription("Create a Volume.");
        volume.AddCommand<VolumeListCommand>("list").WithDescription("List Volumes.");
        volume.AddCommand<VolumeLsCommand>("ls").WithDescription("List files and folders.");
        volume.AddCommand<VolumePutCommand>("put").WithDescription("Upload a file or folder.");
        volume.AddCommand<VolumeGetCommand>("get").WithDescription("Download a file.");
        volume.AddCommand<VolumeRmCommand>("rm").WithDescription("Remove a file or folder.");
        volume.AddCommand<VolumeCpCommand>("cp").WithDescription("Copy files or folders inside the Volume.");
        volume.AddCommand<VolumeRenameCommand>("rename").WithDescription("Rename a Volume.");
        volume.AddCommand<VolumeDeleteCommand>("delete").WithDescription("Delete a Volume and its files.");
    });
    config.AddBranch("secret", secret =>
    {
        secret.SetDescription("Secrets: encrypted environment variables for functions of the workspace.");
        secret.AddCommand<SecretCreateCommand>("create").WithDescription("Create a secret from KEY=VALUE pairs.");
        secret.AddCommand<SecretListCommand>("list").WithDescription("List secrets and their keys (never values).");
        secret.AddCommand<SecretDeleteCommand>("delete").WithDescription("Delete a secret.");
    });
});
return await app.RunAsync(args);
