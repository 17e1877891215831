using Microsoft.Extensions.Options;
using Modal.Api;
using Modal.Api.Endpoints;
using Modal.Api.Hosting;
using Modal.Api.Web;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApiServices();
var app = builder.Build();
var options = app.Services.GetRequiredService<IOptions<ApiOptions>>().Value;
await app.MigrateApiDatabaseAsync();

app.UseDefaultExceptionHandler().UseWebIngress().UseProblemResponses().MapDefaultEndpoints();
app.MapOpenApi();
app.MapApiV1()
    .MapWorkspaceEndpoints()
    .MapTokenEndpoints()
    .MapProxyTokenEndpoints()
    .MapAppEndpoints()
    .MapWebEndpointEndpoints()
    .MapCallEndpoints()
    .MapMapEndpoints()
    .MapStorageAccessEndpoints()
    .MapScalingEndpoints()
    .MapScheduleEndpoints()
    .MapImageEndpoints()
    .MapStorageProxyEndpoints(options.StorageUrl)
    .MapSecretProxyEndpoints(options.SecretsUrl);
await app.RunAsync();
