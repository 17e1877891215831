using Modal.Torch;
using System.Diagnostics;
using TorchSharp;

namespace MatmulBench;

/// <summary>The measurement, callable from anywhere (the function, or a bare process on the same GPU).</summary>
public static class Matmul
{
    public static string Run(int size, int iterations)
    {
        var device = TorchDevice.Current;
        var lines = new List<string> { $"device: {device}; {size}x{size} matrices, {iterations} products each" };
        foreach (var (name, type) in new[] { ("fp32", torch.float32), ("bf16", torch.bfloat16) })
        {
            lines.Add($"{name}: {TeraFlops(size, iterations, type, device):0.00} TFLOP/s");
        }
        return string.Join('\n', lines);
    }

    private static double TeraFlops(int size, int iterations, torch.ScalarType type, torch.Device device)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        var a = torch.randn(size, size, dtype: type, device: device);
        var b = torch.randn(size, size, dtype: type, device: device);
        a.matmul(b).Dispose(); // Warm-up: kernels chosen, memory pools filled.
        Synchronize(device);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            a.matmul(b).Dispose();
        }
        Synchronize(device);
        return 2.0 * size * size * size * iterations / clock.Elapsed.TotalSeconds / 1e12;
    }

    private static void Synchronize(torch.Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            torch.cuda.synchronize();
        }
    }
}
