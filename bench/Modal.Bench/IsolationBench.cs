extern alias runner;

using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using runner::Modal.GpuRunner.Containers;

namespace Modal.Bench;

/// <summary>
/// Cold start of a container by backend, measured in one run, interleaved so that load on the machine hits all alike:
/// from the runner's start of the container (cgroup made, network namespace made, process spawned) to the first result of
/// a no-op input over its socket. Backends: a plain process (the baseline); the sandbox before issue 17 (bubblewrap run as
/// root, every capability, the node's network, in a cgroup); and the runner's sandbox now (the container's uid, no
/// capabilities, the seccomp profile, masked /proc and /sys, a sized /tmp, a network namespace of its own with slirp4netns,
/// in a cgroup), with a network namespace kept ready (as the runner does), made at the start (the pool ran dry), and
/// without a network (BlockNetwork). The bench program is the container's app, as in the
/// <c>cold</c> mode. Needs bwrap, slirp4netns, nft and root; removes its namespaces and folders when done.
/// </summary>
internal static class IsolationBench
{
    private const int ContainerUid = 61000;
    private const int NetworkUid = 61001;

    public static async Task<int> RunAsync(int runs)
    {
        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine("Containers are Linux's.");
            return 1;
        }
        var dotnet = DotnetHost.Resolve();
        var cgroups = new Cgroups("/sys/fs/cgroup", NullLogger<Cgroups>.Instance);
        var runtime = Directory.CreateTempSubdirectory("modal-bench-").FullName;
        // The container's uid reaches its runtime folder by name, as in the runner's own folder.
        File.SetUnixFileMode(runtime, File.GetUnixFileMode(runtime) | UnixFileMode.OtherExecute);
        var seccomp = Path.Combine(runtime, "seccomp.bpf");
        SeccompFilter.Write(seccomp);
        // Fixed runner ids: a bench killed midway leaves namespaces that the next run removes. One keeps a namespace ready
        // as the runner does (GpuRunner:NetworkPoolSize); the other makes each at its container's start (the pool ran dry).
        using var networks = new ContainerNetworks("modal-bench", NetworkUid, "slirp4netns", NullLogger<ContainerNetworks>.Instance, poolSize: 1);
        using var unpooled = new ContainerNetworks("modal-bench-unpooled", NetworkUid, "slirp4netns", NullLogger<ContainerNetworks>.Instance);
        if (networks.Unavailable is { } why)
        {
            Console.Error.WriteLine($"Containers cannot have networks of their own here: {why}");
            return 1;
        }
        var sandbox = new SandboxSettings(new ContainerUser(ContainerUid, ContainerUid), seccomp, 1024L << 20,
            Executables.Find("setpriv") ?? "setpriv", networks.Nsenter);
        var confining = new BubblewrapLauncher("bwrap", dotnet, new Dictionary<string, string>(), Path.Exists, sandbox);
        var backends = new Backend[]
        {
            new("plain process (baseline)", new ProcessLauncher(dotnet), null, Networks: null, Block: false),
            new($"before: bwrap as root, node network, {cgroups.Enforcement}", new RootSharedNetworkLauncher(dotnet), cgroups, null, false),
            new($"now: uid, no caps, seccomp, slirp4netns, {cgroups.Enforcement}", confining, cgroups, networks, Block: false),
            new("now, namespace made at start (pool empty)", confining, cgroups, unpooled, Block: false),
            new("now, BlockNetwork (loopback only)", confining, cgroups, Networks: null, Block: true),
        };
        var samples = backends.Select(_ => new double[runs]).ToArray();
        try
        {
            // One unmeasured start each: the first start pays for loading files into the page cache.
            for (var i = -1; i < runs; i++)
            {
                for (var b = 0; b < backends.Length; b++)
                {
                    var elapsed = await ColdStartAsync(backends[b], runtime, i);
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
        var before = Percentile(samples[1], 0.5);
        for (var b = 0; b < backends.Length; b++)
        {
            var p50 = Percentile(samples[b], 0.5);
            Console.WriteLine(
                $"{backends[b].Name,-58} p50 {p50,7:0.0} ms  p95 {Percentile(samples[b], 0.95),7:0.0} ms  max {samples[b].Max(),7:0.0} ms  vs before {p50 / before:0.00}x");
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

    private static async Task<double> ColdStartAsync(Backend backend, string runtime, int run)
    {
        var id = $"bench-{Guid.NewGuid():N}"[..18];
        var started = Stopwatch.GetTimestamp();
        using var resources = backend.Limits?.Create(id, new ContainerLimits(512L << 20, 1, 4096));
        using var network = backend.Networks is { } networks ? await networks.CreateAsync(CancellationToken.None) : null;
        var spec = new ContainerSpec(id, AppContext.BaseDirectory, "Modal.Bench.dll", new Dictionary<string, string>())
        {
            CgroupProcsFiles = resources?.ProcsFiles ?? [],
            NetworkNamespace = network?.Path,
            BlockNetwork = backend.Block,
        };
        await using var container = await ContainerProcess.StartAsync(spec, backend.Launcher, runtime, TimeSpan.FromSeconds(60), (_, _) => { },
            CancellationToken.None);
        var output = await container.InvokeAsync("noop", $$"""{"x": {{run}}}""", $"bench-{run}", (_, _) => { }, CancellationToken.None);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        backend.Networks?.Refill(); // As the runner does, once the container is up.
        if (!output.Succeeded)
        {
            throw new InvalidOperationException($"The no-op failed in {backend.Name}: {output.Message}");
        }
        return elapsed;
    }

    /// <summary>The value below which <paramref name="fraction"/> of the samples lie (nearest rank).</summary>
    private static double Percentile(double[] values, double fraction)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private sealed record Backend(string Name, IContainerLauncher Launcher, Cgroups? Limits, ContainerNetworks? Networks, bool Block);

    /// <summary>
    /// The bubblewrap arguments the runner used before issue 17, kept here as the baseline: run as root (every
    /// capability inside), the node's network, no seccomp profile, no masks, an unsized /tmp.
    /// </summary>
    private sealed class RootSharedNetworkLauncher(string dotnetPath) : IContainerLauncher
    {
        public string Backend => "bubblewrap";

        public bool Isolates => true;

        public ContainerCommand Command(ContainerSpec spec, string runtimeDirectory, IReadOnlyDictionary<string, string> environment)
        {
            var args = new List<string> { "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "modal" };
            foreach (var folder in ((string[])["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc"]).Where(Path.Exists))
            {
                args.AddRange(["--ro-bind", folder, folder]);
            }
            foreach (var secret in ((string[])["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-"]).Where(Path.Exists))
            {
                args.AddRange(["--ro-bind", "/dev/null", secret]);
            }
            args.AddRange(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]);
            args.AddRange(["--ro-bind", spec.BundleDirectory, BubblewrapLauncher.BundlePath, "--chdir", BubblewrapLauncher.BundlePath]);
            args.AddRange(["--bind", runtimeDirectory, BubblewrapLauncher.RuntimePath]);
            args.AddRange(["--", dotnetPath, $"{BubblewrapLauncher.BundlePath}/{spec.EntryAssembly}"]);
            var variables = new Dictionary<string, string>(environment, StringComparer.Ordinal)
            {
                [Modal.Container.Protocol.ContainerProtocol.SocketVariable] = $"{BubblewrapLauncher.RuntimePath}/fn.sock",
                [ContainerCommand.IsolationVariable] = Backend,
                ["HOME"] = "/tmp",
                ["TMPDIR"] = "/tmp",
            };
            return new ContainerCommand("bwrap", args, spec.BundleDirectory, variables);
        }
    }
}
