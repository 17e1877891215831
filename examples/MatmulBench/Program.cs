// Matrix products on the device the function was given, in fp32 and bf16, reported in TFLOP/s.
// Run it with `modal run examples/MatmulBench`, or `dotnet run --project examples/MatmulBench -- --local` here.
using Modal;
using Modal.Torch;
using MatmulBench;

var app = new App("example-matmul-bench");
TorchDevice.EnsureAtStart();

var bench = app.Function("matmul", (int size, int iterations) => Matmul.Run(size, iterations),
    new FunctionOptions { Gpu = "any", Cpu = 1, MemoryMiB = 4096 });

app.LocalEntrypoint(async () =>
{
    var size = args.Contains("--small") ? 512 : 4096;
    var result = args.Contains("--local") ? await bench.LocalAsync(size, 10) : await bench.RemoteAsync(size, 10);
    Console.WriteLine(result);
});

return await app.RunAsync(args);
