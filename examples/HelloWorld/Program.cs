// Modal's "hello, world" in C#: one function, run locally, remotely, and fanned out.
// Run it with `modal run examples/HelloWorld` (or deploy it with `modal deploy examples/HelloWorld`).
using Modal;

var app = new App("example-hello-world");

var f = app.Function("f", (int i) =>
{
    if (i % 2 == 0)
    {
        Console.WriteLine($"hello {i}");
    }
    else
    {
        Console.Error.WriteLine($"world {i}");
    }
    return i * i;
});

// Used by the platform's own tests of how failures travel back to the caller.
app.Function("fail", (string message) => Fail(message));
// A container sees only the GPUs it was given (none unless it asks).
app.Function("visible_gpus", () => Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES") ?? "(unset)", new FunctionOptions { Gpu = "T4" });
app.Function("visible_gpus_none", () => Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES") ?? "(unset)");

// Functions use the platform from inside their container: this one feeds a Queue its caller reads.
app.Function("produce", async (string queue, int count) =>
{
    var items = Queue.FromName(app.Client, queue, createIfMissing: true);
    for (var i = 0; i < count; i++)
    {
        await items.PutAsync(i);
    }
    return count;
});
app.Function("env", (string name) => Environment.GetEnvironmentVariable(name));
// Several variables read in one container, one per line (a container's token id and secret belong together).
app.Function("envs", (string names) => string.Join('\n', names.Split(',').Select(name => Environment.GetEnvironmentVariable(name) ?? "")));

// Payloads over 2 MiB travel through Storage as blobs, both ways.
app.Function("reverse", (byte[] data) => data.Reverse().ToArray());
app.Function("sleep", async (int milliseconds) =>
{
    await Task.Delay(milliseconds);
    return milliseconds;
});

app.LocalEntrypoint(async () =>
{
    // Runs in this process.
    Console.WriteLine(await f.LocalAsync(1000));

    // Runs in a container on the platform.
    Console.WriteLine(await f.RemoteAsync(1000));

    // Runs 20 inputs in parallel.
    var calls = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => f.SpawnAsync(i)));
    Console.WriteLine((await FunctionCall.GatherAsync(calls)).Sum());
});

return await app.RunAsync(args);

static int Fail(string message) => throw new InvalidOperationException(message);
