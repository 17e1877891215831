// Containers appear when work arrives, land on a node with the right free GPUs, and disappear when idle.
// Deploy it with `modal deploy examples/Autoscaling`, then `modal run examples/Autoscaling` fans out a burst.
using Modal;

var app = new App("example-autoscaling");

// Wants an H100; when every H100 is taken, an A100-80GB will do (fallbacks are tried in order).
var render = app.Function("render", async (int milliseconds) =>
{
    await Task.Delay(milliseconds);
    return Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES");
}, new FunctionOptions { Gpu = "H100", GpuFallbacks = ["A100-80GB"], MaxContainers = 4, ScaledownWindow = TimeSpan.FromSeconds(2) });

// CPU only: a backlog scales it from zero to at most three containers, which stop after two idle seconds.
var burst = app.Function("burst", async (int milliseconds) =>
{
    await Task.Delay(milliseconds);
    return Environment.ProcessId;
}, new FunctionOptions { MaxContainers = 3, ScaledownWindow = TimeSpan.FromSeconds(2) });

// One container is kept running even with no work.
app.Function("warm", () => Environment.ProcessId, new FunctionOptions { MinContainers = 1, ScaledownWindow = TimeSpan.FromSeconds(2) });

// Scales to zero until its bounds are changed at run time (Function.UpdateAutoscalerAsync).
app.Function("tunable", () => Environment.ProcessId, new FunctionOptions { ScaledownWindow = TimeSpan.FromSeconds(2) });

// Each container runs one input, then exits.
app.Function("once", () => Environment.ProcessId, new FunctionOptions { SingleUseContainers = true, MaxContainers = 2 });

app.LocalEntrypoint(async () =>
{
    var calls = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => burst.SpawnAsync(1_000)));
    var containers = (await FunctionCall.GatherAsync(calls)).Distinct().Count();
    Console.WriteLine($"12 inputs ran in {containers} containers");
    Console.WriteLine($"render ran on GPU {await render.RemoteAsync(100)}");
});

return await app.RunAsync(args);
