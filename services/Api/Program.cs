using Modal.Api.Endpoints;
using Modal.Api.Hosting;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApiServices();

var app = builder.Build();

await app.MigrateApiDatabaseAsync();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapApiV1()
    .MapWorkspaceEndpoints()
    .MapTokenEndpoints()
    .MapAppEndpoints()
    .MapCallEndpoints();

await app.RunAsync();
