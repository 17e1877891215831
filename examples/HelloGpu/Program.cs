// Hello, GPU: what the container's GPU looks like (nvidia-smi) and a tensor product on the device it was given.
// Run it with `modal run examples/HelloGpu`, or `dotnet run --project examples/HelloGpu -- --local` to run it here.
using System.Diagnostics;
using Modal;
using Modal.Torch;
using TorchSharp;

var app = new App("example-hello-gpu");
// In a container that holds a GPU it cannot use, this fails as the container starts, saying why.
TorchDevice.EnsureAtStart();

var hello = app.Function("hello", Hello, new FunctionOptions { Gpu = "any", Cpu = 1, MemoryMiB = 2048 });
// The same code in a container without a GPU: it runs on the CPU and says so.
app.Function("hello_cpu", Hello, new FunctionOptions { Cpu = 1, MemoryMiB = 1024 });

app.LocalEntrypoint(async () =>
{
    Console.WriteLine(args.Contains("--local") ? await hello.LocalAsync() : await hello.RemoteAsync());
});

return await app.RunAsync(args);

static string Hello()
{
    var choice = TorchDevice.Choice;
    using var scope = torch.NewDisposeScope();
    var a = torch.arange(1, 5, dtype: torch.float32, device: choice.Device).reshape(2, 2);
    var sum = a.matmul(a).sum().item<float>(); // [[1,2],[3,4]]² = [[7,10],[15,22]]
    return $"{NvidiaSmi()}\ndevice: {choice.Device.type.ToString().ToLowerInvariant()} ({choice.Reason})\n[[1,2],[3,4]]² sums to {sum}";
}

static string NvidiaSmi()
{
    try
    {
        using var smi = Process.Start(new ProcessStartInfo("nvidia-smi") { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = smi.StandardOutput.ReadToEnd();
        smi.WaitForExit();
        return output.TrimEnd();
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return "nvidia-smi: not in this container (it holds no GPU, or its node has no driver)";
    }
}
