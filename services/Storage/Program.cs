using Modal.Storage.Endpoints;
using Modal.Storage.Hosting;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddStorageServices();

var app = builder.Build();

await app.EnsureStorageBucketsAsync();

app.UseDefaultExceptionHandler().UseProblemResponses().MapDefaultEndpoints();
app.MapOpenApi();
app.MapBlobEndpoints();
app.MapDictEndpoints();
app.MapQueueEndpoints();
app.MapVolumeEndpoints();

await app.RunAsync();
