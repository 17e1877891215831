using Microsoft.Extensions.Options;
using Modal.Api;
using Modal.Api.Endpoints;
using Modal.Api.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApiServices();
var app = builder.Build();
var options = app.Services.GetRequiredService<IOptions<ApiOptions>>().Value;
await app.MigrateApiDatabaseAsync();

app.UseDefaultExceptionHandler().MapDefaultEndpoints();
app.MapOpenApi();
app.MapApiV1()
    .MapWorkspaceEndpoints()
    .MapTokenEndpoints()
    .MapProxyTokenEndpoints()
    .MapAppEndpoints()
    .MapCallEndpoints()
    .MapMapEndpoints()
    .MapStorageAccessEndpoints()
    .MapScalingEndpoints()
    .MapStorageProxyEndpoints(options.StorageUrl)
    .MapSecretProxyEndpoints(options.SecretsUrl);
await app.RunAsync();
