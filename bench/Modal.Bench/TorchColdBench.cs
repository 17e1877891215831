using System.Diagnostics;
using Modal.Deployment;

namespace Modal.Bench;

/// <summary>
/// Cold start of a TorchSharp function to its first tensor op (issue 20): examples/HelloGpu's <c>hello_cpu</c> called with
/// no container running (libtorch loaded, a 2×2 product on the CPU, the result back) against the same program run bare
/// (<c>dotnet HelloGpu.dll --local</c>: the same function body in-process) to its first line of output, in the same run.
/// </summary>
internal static class TorchColdBench
{
    public static async Task RunAsync(ModalClient client, string buildDirectory, int runs)
    {
        var entry = Path.Combine(buildDirectory, "HelloGpu.dll");
        var deployment = await AppDeployer.DeployAsync(client, buildDirectory, "HelloGpu.dll");
        var hello = Function.FromName(client, deployment.App.Name, "hello_cpu");
        var bare = new double[runs];
        var cold = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            bare[i] = await BareFirstOpAsync(entry);
            // As the spine's cold benchmark: stopping the app stops its container; the redeploy (bundle cached by the runner)
            // leaves none running, so the next call starts one.
            await client.Apps.StopAsync(deployment.App.Name);
            await AppDeployer.DeployAsync(client, buildDirectory, "HelloGpu.dll");
            var started = Stopwatch.GetTimestamp();
            var said = await hello.RemoteAsync<string>(new { });
            cold[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!said.Contains("sums to 54", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"hello_cpu said: {said}");
            }
        }
        Array.Sort(bare);
        Array.Sort(cold);
        Console.WriteLine($"== torch-cold: {runs} runs (bundle cached on the runner), load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        Console.WriteLine($"bare `dotnet HelloGpu.dll --local` to its result   p50 {bare[runs / 2]:0.0} ms  max {bare[^1]:0.0} ms");
        Console.WriteLine($"platform hello_cpu, no container running          p50 {cold[runs / 2]:0.0} ms  max {cold[^1]:0.0} ms");
        Console.WriteLine($"ratio p50 {cold[runs / 2] / bare[runs / 2]:0.00}x");
    }

    /// <summary>Process start to the result line (the last of the three lines hello prints).</summary>
    private static async Task<double> BareFirstOpAsync(string entry)
    {
        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(new ProcessStartInfo("dotnet", [entry, "--local"]) { RedirectStandardOutput = true })!;
        while (await process.StandardOutput.ReadLineAsync() is { } line && !line.Contains("sums to", StringComparison.Ordinal))
        {
        }
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        await process.WaitForExitAsync();
        return elapsed;
    }
}
