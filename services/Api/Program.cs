using Microsoft.Extensions.Options;
using Modal.Api;
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
    .MapCallEndpoints()
    .MapMapEndpoints()
    .MapStorageAccessEndpoints()
    .MapScalingEndpoints()
    .MapBlobProxyEndpoints(app.Services.GetRequiredService<IOptions<ApiOptions>>().Value.StorageUrl)
    .MapDictAndQueueProxyEndpoints(app.Services.GetRequiredService<IOptions<ApiOptions>>().Value.StorageUrl)
    .MapSecretProxyEndpoints(app.Services.GetRequiredService<IOptions<ApiOptions>>().Value.SecretsUrl);

await app.RunAsync();
