using Modal.Scheduler.Endpoints;
using Modal.Scheduler.Hosting;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddSchedulerServices();

var app = builder.Build();

await app.MigrateSchedulerDatabaseAsync();

app.UseDefaultExceptionHandler().UseProblemResponses().MapDefaultEndpoints();
app.MapOpenApi();
app.MapRunnerEndpoints();

await app.RunAsync();
