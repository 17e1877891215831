using Modal.GpuRunner.Hosting;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGpuRunnerServices();

var app = builder.Build();

app.UseDefaultExceptionHandler().MapDefaultEndpoints();

await app.RunAsync();
