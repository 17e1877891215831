using Modal.GpuRunner.Hosting;
using Modal.GpuRunner.Web;

var builder = WebApplication.CreateBuilder(args);

// The runner's server takes health probes and web traffic only, neither of them traced (decision 28).
builder.AddServiceDefaults(traceIncomingRequests: false);
builder.AddGpuRunnerServices();

var app = builder.Build();

app.UseDefaultExceptionHandler();
// Ingresses' requests for server containers (header Modal-Container-Id) go to them before anything of the runner's.
app.UseWebForwarder();
app.UseProblemResponses();
// Named after the forwarder: WebApplication would otherwise put routing at the very start, matching every web request.
app.UseRouting();
app.MapDefaultEndpoints();

await app.RunAsync();
