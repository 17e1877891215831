// Containers appear when work arrives, land on a node with the right free GPUs, and disappear when idle.
// Deploy it with `modal deploy examples/Autoscaling`, then `modal run examples/Autoscaling` fans out a burst.
using Modal;

var app = new App("example-autoscaling");

// Which container answered: a number drawn once per process. (Not the process id: an isolated container has a pid
// namespace of its own, where every container's program has the same small pid.)
var container = Random.Shared.Next(1, int.MaxValue);

// Wants an H100; when every H100 is taken, an A100-80GB will do (fallbacks are tried in order).
var render = app.Function("render", async (int milliseconds) =>
{
    await Task.Delay(milliseconds);
    return Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES");
}, new FunctionOptions { Gpu = "H100", GpuFallbacks = ["A100-80GB"], MaxContainers = 4, ScaledownWindow = TimeSpan.FromSeconds(2) });

// The cluster's one T4 (on a runner with two A100s): while it is taken, a second input waits for it, which
// `modal function stats example-autoscaling lone` shows, and runs once it is free.
app.Function("lone", async (int milliseconds) =>
{
    await Task.Delay(milliseconds);
    return container;
}, new FunctionOptions { Gpu = "T4", ScaledownWindow = TimeSpan.FromSeconds(2) });

// Asks for GPUs no runner of the test cluster has: a call fails within seconds as Modal.GpuUnavailable, naming the
// types asked for and those present (the deploy itself succeeds: a runner with one may join later).
app.Function("nowhere", (int x) => x, new FunctionOptions { Gpu = "B200", GpuFallbacks = ["L40S"] });

// CPU only: a backlog scales it from zero to at most three containers, which stop after two idle seconds.
var burst = app.Function("burst", async (int milliseconds) =>
{
    await Task.Delay(milliseconds);
    return container;
}, new FunctionOptions { MaxContainers = 3, ScaledownWindow = TimeSpan.FromSeconds(2) });

// One container is kept running even with no work.
app.Function("warm", () => container, new FunctionOptions { MinContainers = 1, ScaledownWindow = TimeSpan.FromSeconds(2) });

// Scales to zero until its bounds are changed at run time (Function.UpdateAutoscalerAsync).
app.Function("tunable", () => container, new FunctionOptions { ScaledownWindow = TimeSpan.FromSeconds(2) });

// Each container runs one input, then exits.
app.Function("once", () => container, new FunctionOptions { SingleUseContainers = true, MaxContainers = 2 });

app.LocalEntrypoint(async () =>
{
    var calls = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => burst.SpawnAsync(1_000)));
    var containers = (await FunctionCall.GatherAsync(calls)).Distinct().Count();
    Console.WriteLine($"12 inputs ran in {containers} containers");
    Console.WriteLine($"render ran on GPU {await render.RemoteAsync(100)}");
});

return await app.RunAsync(args);
