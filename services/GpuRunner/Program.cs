using Modal.GpuRunner.Hosting;
using Modal.GpuRunner.Web;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGpuRunnerServices();

var app = builder.Build();

app.UseDefaultExceptionHandler();
// Ingresses' requests for server containers (header Modal-Container-Id) go to them before anything of the runner's.
app.UseWebForwarder();
app.MapDefaultEndpoints();

await app.RunAsync();
