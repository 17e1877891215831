extern alias runner;

using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using runner::Modal.GpuRunner.Containers;

namespace Modal.Bench;

/// <summary>
/// Cold start of a container by backend, measured in one run, interleaved so that load on the machine hits all alike:
/// from the runner's start of the container (cgroup made, process spawned) to the first result of a no-op input over its
/// socket. Backends: a plain process (the baseline), bubblewrap, and bubblewrap in a cgroup with limits (what the runner
/// does). The bench program is the container's app, as in the <c>cold</c> mode. Needs bwrap, and root for cgroups.
/// </summary>
internal static class IsolationBench
{
    public static async Task<int> RunAsync(int runs)
    {
        var dotnet = DotnetHost.Resolve();
        var cgroups = new Cgroups("/sys/fs/cgroup", NullLogger<Cgroups>.Instance);
        var bubblewrap = new BubblewrapLauncher("bwrap", dotnet, new Dictionary<string, string>(), Path.Exists);
        var backends = new (string Name, IContainerLauncher Launcher, bool Limited)[]
        {
            ("plain process (baseline)", new ProcessLauncher(dotnet), false),
            ("bubblewrap", bubblewrap, false),
            ($"bubblewrap + limits ({cgroups.Enforcement})", bubblewrap, true),
        };
        var runtime = Directory.CreateTempSubdirectory("modal-bench-").FullName;
        var samples = backends.Select(_ => new double[runs]).ToArray();
        try
        {
            // One unmeasured start each: the first start pays for loading files into the page cache.
            for (var i = -1; i < runs; i++)
            {
                for (var b = 0; b < backends.Length; b++)
                {
                    var elapsed = await ColdStartAsync(backends[b].Launcher, backends[b].Limited ? cgroups : null, runtime, i);
                    if (i >= 0)
                    {
                        samples[b][i] = elapsed;
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(runtime, recursive: true);
        }

        Console.WriteLine($"== isolation: {runs} cold starts per backend, interleaved (start → first result of a no-op input)");
        var baseline = Median(samples[0]);
        for (var b = 0; b < backends.Length; b++)
        {
            Array.Sort(samples[b]);
            var p50 = Median(samples[b]);
            Console.WriteLine($"{backends[b].Name,-40} p50 {p50,7:0.0} ms  max {samples[b][^1],7:0.0} ms  +{p50 - baseline,6:0.0} ms  {p50 / baseline:0.00}x");
        }
        return 0;
    }

    /// <summary>
    /// Prints, one per line, the bubblewrap arguments the runner would use for a container holding the GPUs
    /// <paramref name="gpus"/> (up to the <c>--</c> before the program), for scripts/device-check.sh on a GPU host.
    /// </summary>
    public static int PrintSandbox(IReadOnlyList<int> gpus, string runtimeDirectory)
    {
        var launcher = new BubblewrapLauncher("bwrap", DotnetHost.Resolve(), new Dictionary<string, string>(), Path.Exists);
        var spec = new ContainerSpec("device-check", AppContext.BaseDirectory, "Modal.Bench.dll", new Dictionary<string, string>()) { GpuIndices = gpus };
        foreach (var argument in launcher.Command(spec, runtimeDirectory, new Dictionary<string, string>()).Arguments.TakeWhile(a => a != "--"))
        {
            Console.WriteLine(argument);
        }
        return 0;
    }

    private static async Task<double> ColdStartAsync(IContainerLauncher launcher, Cgroups? cgroups, string runtime, int run)
    {
        var id = $"bench-{Guid.NewGuid():N}"[..18];
        var started = Stopwatch.GetTimestamp();
        using var resources = cgroups?.Create(id, new ContainerLimits(512L << 20, 1, 4096));
        var spec = new ContainerSpec(id, AppContext.BaseDirectory, "Modal.Bench.dll", new Dictionary<string, string>())
        {
            CgroupProcsFiles = resources?.ProcsFiles ?? [],
        };
        await using var container = await ContainerProcess.StartAsync(spec, launcher, runtime, TimeSpan.FromSeconds(60), (_, _) => { },
            CancellationToken.None);
        var output = await container.InvokeAsync("noop", $$"""{"x": {{run}}}""", $"bench-{run}", (_, _) => { }, CancellationToken.None);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (!output.Succeeded)
        {
            throw new InvalidOperationException($"The no-op failed in {launcher.Backend}: {output.Message}");
        }
        return elapsed;
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
