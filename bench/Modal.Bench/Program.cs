// Benchmarks of the invocation spine, each against a raw baseline measured in the same run:
//   warm    a platform RemoteAsync of a no-op function vs a bare MassTransit request/response over the same broker
//   cold    no container running → first result of a no-op function vs a bare `dotnet <bundle>.dll` start to first output
//   memory  what a warm no-op container adds beyond the same program idling on its own, and the runner's own footprint
// The program is also the app it deploys (its own no-op function), so inside a container it is the function server.
//
// Needs the platform up (scripts/up.sh) and a token: set -a; . .infra/apphost/first-token.env; set +a
// Run: dotnet bench/Modal.Bench/bin/Release/net10.0/Modal.Bench.dll [warm|cold|memory|all] [count] [amqp-uri]
// Dict and Queue against raw Redis: dotnet bench/Modal.Bench/bin/Release/net10.0/Modal.Bench.dll dict-queue [operations] [items] [redis] [warm-up]
// Map throughput against raw send+consume: dotnet bench/Modal.Bench/bin/Release/net10.0/Modal.Bench.dll map [inputs] [amqp-uri]
// Peak memory of a large map, no baseline: dotnet bench/Modal.Bench/bin/Release/net10.0/Modal.Bench.dll map-memory [inputs]
// Autoscaler reaction (backlog → first / N containers running): dotnet bench/Modal.Bench/bin/Release/net10.0/Modal.Bench.dll scale [containers] [amqp-uri] [runs]
// Volumes against raw S3: dotnet bench/Modal.Bench/bin/Release/net10.0/Modal.Bench.dll volume [large-MiB] [small-files] [s3-url] [access-key] [secret-key]
// Container isolation, cold start by backend (no platform needed; root for cgroups): ... Modal.Bench.dll isolation [runs]
// Web endpoints against the same ASP.NET Core app run bare: ... Modal.Bench.dll web [requests] [load-seconds]
// Schedule firing accuracy against bare Quartz: ... Modal.Bench.dll schedule [firings]
// TorchSharp cold start to the first tensor op against the same op in a bare process: ... Modal.Bench.dll torch-cold [runs] [HelloGpu build folder]
using System.Diagnostics;
using System.Globalization;
using MassTransit;
using Modal;
using Modal.Bench;
using Modal.Deployment;

var app = new App("bench-noop");
var noop = app.Function("noop", (int x) => x);
// The map benchmark's function: several inputs at once in one container, as a map of light work would set it.
var mapNoop = app.Function("map_noop", (int x) => x, new FunctionOptions { MaxConcurrentInputs = 64 });
// For the autoscaler's reaction time: inputs long enough that each needs a container of its own.
var sleeper = app.Function("sleeper", async (int milliseconds) =>
{
    await Task.Delay(milliseconds);
    return milliseconds;
}, new FunctionOptions { MaxContainers = 4, ScaledownWindow = TimeSpan.FromSeconds(2) });

// The web benchmark's server (an ASP.NET Core app, no queue) and web function (a call), the same app bare as baseline.
// A whole core, as the bare baseline has: a container's Cpu is its share of the node under contention.
app.AspNetApp("web_ping", WebBench.Build, options: new FunctionOptions { MaxConcurrentInputs = 100, Cpu = 1 });
app.Function("web_noop", (int x) => x, new FunctionOptions { WebEndpoint = new WebEndpoint { Methods = ["POST"] } });
// The schedule benchmark's function (scheduled by the benchmark's own deploy): when its body started.
app.Function("clock", () => DateTimeOffset.UtcNow);

if (args.Contains(App.DescribeArgument) || Environment.GetEnvironmentVariable(Modal.Container.Protocol.ContainerProtocol.SocketVariable) is { Length: > 0 })
{
    return await app.RunAsync(args);
}
if (args.Length > 2 && args[0] == WebBench.BareProxyArgument)
{
    return await WebBench.ServeBareProxyAsync(int.Parse(args[1], CultureInfo.InvariantCulture), new Uri(args[2]));
}
if (args.Length > 2 && args[0] == WebBench.BareSpliceArgument)
{
    return await WebBench.ServeBareSpliceAsync(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture));
}
if (args.Length > 1 && args[0] == WebBench.BareArgument)
{
    return await WebBench.ServeBareAsync(int.Parse(args[1], CultureInfo.InvariantCulture));
}
if (args.Contains(Program.IdleArgument))
{
    // The memory baseline: the same program, its function run once in-process, then idle.
    await noop.LocalAsync(1);
    Console.WriteLine("idle");
    await Task.Delay(Timeout.Infinite);
}

if (args.Length > 0 && args[0] == "dict-queue")
{
    using var storageClient = ModalClient.FromEnvironment();
    return await DictQueueBench.RunAsync(storageClient,
        args.Length > 3 ? args[3] : "127.0.0.1:6389",
        args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000,
        args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 20_000,
        args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 1_000);
}

if (args.Length > 0 && args[0] == "sandbox-args")
{
    // scripts/device-check.sh: the runner's bubblewrap arguments for a container holding the GPUs named after the runtime folder.
    return IsolationBench.PrintSandbox(args.Skip(2).Select(gpu => int.Parse(gpu, CultureInfo.InvariantCulture)).ToList(), args[1]);
}
if (args.Length > 4 && args[0] == "gpu-node")
{
    // scripts/gpu-check.sh: gpu-node <runtime folder> <bundle folder> <entry.dll> <CUDA libtorch folder or -> [GPU index ...]
    return GpuNodeCheck.Print(args[1], args[2], args[3], args[4] == "-" ? null : args[4],
        args.Skip(5).Select(gpu => int.Parse(gpu, CultureInfo.InvariantCulture)).DefaultIfEmpty(0).ToList());
}
if (args.Length > 0 && args[0] == "isolation")
{
    return await IsolationBench.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20);
}

if (args.Length > 0 && args[0] == "volume")
{
    using var storageClient = ModalClient.FromEnvironment();
    return await VolumeBench.RunAsync(storageClient,
        new Uri(args.Length > 3 ? args[3] : "http://127.0.0.1:8089"),
        args.Length > 4 ? args[4] : "modal:storage",
        args.Length > 5 ? args[5] : InstallCredential("MODAL_S3_STORAGE_SECRET"),
        args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1024,
        args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2_000);
}

if (args.Length > 0 && args[0] == "torch-cold")
{
    using var torchClient = ModalClient.FromEnvironment();
    await TorchColdBench.RunAsync(torchClient,
        args.Length > 2 ? args[2] : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../examples/HelloGpu/bin/Release/net10.0")),
        args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10);
    return 0;
}

var mode = args.Length > 0 ? args[0] : "all";
var count = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 0;
var broker = new Uri(args.Length > 2 && mode != "web" ? args[2] : $"amqp://gpu-runner:{InstallCredential("MODAL_RABBITMQ_GPU_RUNNER_PASSWORD")}@127.0.0.1:5682/");

using var client = ModalClient.FromEnvironment();
app.Client = client;
var deployment = await AppDeployer.DeployAsync(client, AppContext.BaseDirectory, "Modal.Bench.dll");
Console.WriteLine($"deployed {deployment.App.Name} (bundle {deployment.Bundle.Id[..12]})");

if (mode == "web")
{
    var endpoints = (await client.WebEndpoints.ListAsync()).Endpoints.Where(e => e.AppId == deployment.App.Id).ToList();
    var server = new Uri(endpoints.Single(e => e.Function == "web_ping").PathUrl);
    var webFunction = new Uri(endpoints.Single(e => e.Function == "web_noop").PathUrl);
    await WebBench.RunAsync(server, webFunction, i => noop.RemoteAsync(i), count > 0 ? count : 5_000,
        TimeSpan.FromSeconds(args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 30));
    return 0;
}
if (mode == "schedule")
{
    await ScheduleBench.RunAsync(client, deployment, count > 0 ? count : 100);
    return 0;
}
if (mode == "scale")
{
    await ScaleBench.RunAsync(client, milliseconds => sleeper.SpawnAsync(milliseconds), broker, count > 0 ? count : 4,
        args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5,
        () => TimeToFirstOutputAsync(Path.Combine(AppContext.BaseDirectory, "Modal.Bench.dll")));
    return 0;
}
if (mode is "warm" or "all")
{
    await WarmAsync(noop, broker, count > 0 ? count : 500);
}
if (mode is "cold" or "all")
{
    await ColdAsync(client, noop, count > 0 && mode == "cold" ? count : 10);
}
if (mode is "memory" or "all")
{
    await MemoryAsync(noop);
}
if (mode is "map")
{
    await MapBench.RunAsync(mapNoop, broker, count > 0 ? count : 100_000);
}
if (mode is "map-memory")
{
    // Peak memory of a large map (1,000,000 inputs by default), without the raw baseline.
    await MapBench.RunAsync(mapNoop, baseline: null, count > 0 ? count : 1_000_000);
}
return 0;

// The backing servers' credentials are generated per install (docs/decisions.md, 23): the bench reads them from the
// environment, e.g. after `set -a; . .infra/apphost/infra-credentials.env; set +a`.
static string InstallCredential(string name) =>
    Environment.GetEnvironmentVariable(name)
    ?? throw new InvalidOperationException($"{name} is not set: set -a; . .infra/apphost/infra-credentials.env; set +a");

static async Task WarmAsync(Function<int, int> noop, Uri broker, int calls)
{
    // Baseline: the same broker, a bare request/response (what one call costs the transport alone).
    var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
    {
        rabbit.Host(broker);
        rabbit.ReceiveEndpoint("bench-echo", endpoint => endpoint.Handler<Echo>(context => context.RespondAsync(context.Message)));
    });
    await bus.StartAsync();
    var echo = bus.CreateRequestClient<Echo>(new Uri("queue:bench-echo"));

    // CPU of every process on the machine, read around each side's calls (warm-up included): where a call's cost lands.
    var cpuBefore = Processes.CpuTicksOfEveryProcess();
    var bare = await Latency.MeasureAsync(calls, Program.Warmup, async i => await echo.GetResponse<Echo>(new Echo(i)));
    var cpuBetween = Processes.CpuTicksOfEveryProcess();
    var platform = await Latency.MeasureAsync(calls, Program.Warmup, async i => await noop.RemoteAsync(i));
    var cpuAfter = Processes.CpuTicksOfEveryProcess();
    await bus.StopAsync();

    Console.WriteLine($"== warm: {calls} sequential calls, after {Program.Warmup} warm-up calls each");
    Console.WriteLine($"bare MassTransit request/response  p50 {bare.P50:0.000} ms  p99 {bare.P99:0.000} ms");
    Console.WriteLine($"platform RemoteAsync (no-op)       p50 {platform.P50:0.000} ms  p99 {platform.P99:0.000} ms");
    Console.WriteLine($"ratio p50 {platform.P50 / bare.P50:0.00}x  p99 {platform.P99 / bare.P99:0.00}x");
    Console.WriteLine($"CPU per bare call (µs): {string.Join(", ", Processes.CpuPerOperation(cpuBefore, cpuBetween, calls + Program.Warmup))}");
    Console.WriteLine($"CPU per platform call (µs): {string.Join(", ", Processes.CpuPerOperation(cpuBetween, cpuAfter, calls + Program.Warmup))}");
}

static async Task ColdAsync(ModalClient client, Function<int, int> noop, int runs)
{
    var bundle = Path.Combine(AppContext.BaseDirectory, "Modal.Bench.dll");
    var bare = new double[runs];
    var cold = new double[runs];
    for (var i = 0; i < runs; i++)
    {
        // Baseline: the program started by hand, until it prints its first line.
        bare[i] = await TimeToFirstOutputAsync(bundle);

        // Stopping the app stops its container; the redeploy (same bundle, already cached by the runner, as an image
        // is on a Modal worker) leaves none running, so the next call starts one.
        await client.Apps.StopAsync("bench-noop");
        await AppDeployer.DeployAsync(client, AppContext.BaseDirectory, "Modal.Bench.dll");
        var started = Stopwatch.GetTimestamp();
        await noop.RemoteAsync(i);
        cold[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }
    Array.Sort(bare);
    Array.Sort(cold);
    Console.WriteLine($"== cold: {runs} runs (bundle cached on the runner)");
    Console.WriteLine($"bare `dotnet Modal.Bench.dll` to first output  p50 {bare[runs / 2]:0.0} ms  max {bare[^1]:0.0} ms");
    Console.WriteLine($"platform first call, no container running    p50 {cold[runs / 2]:0.0} ms  max {cold[^1]:0.0} ms");
    Console.WriteLine($"ratio p50 {cold[runs / 2] / bare[runs / 2]:0.00}x");
}

static async Task MemoryAsync(Function<int, int> noop)
{
    for (var i = 0; i < 100; i++)
    {
        await noop.RemoteAsync(i);
    }
    var container = Processes.Find(args => args.Contains("Modal.Bench.dll", StringComparison.Ordinal), hasVariable: Modal.Container.Protocol.ContainerProtocol.SocketVariable)
        ?? throw new InvalidOperationException("No bench container process found on this machine (is the runner local?).");
    var runner = Processes.Find(args => args.Contains("Modal.GpuRunner", StringComparison.Ordinal))
        ?? throw new InvalidOperationException("No Modal.GpuRunner process found on this machine.");

    using var idle = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Modal.Bench.dll"), Program.IdleArgument])
    {
        RedirectStandardOutput = true,
    })!;
    await idle.StandardOutput.ReadLineAsync();
    await Task.Delay(TimeSpan.FromSeconds(2)); // Let start-up allocations settle, as the container's have.
    var idleKb = Processes.PssKb(idle.Id);
    idle.Kill();

    var containerKb = Processes.PssKb(container);
    Console.WriteLine("== memory (PSS, after 100 warm calls)");
    Console.WriteLine($"bare program, function run once, idle   {idleKb / 1024.0:0.0} MB");
    Console.WriteLine($"warm no-op container                    {containerKb / 1024.0:0.0} MB");
    Console.WriteLine($"added by the container                  {(containerKb - idleKb) / 1024.0:0.0} MB");
    Console.WriteLine($"runner process                          {Processes.PssKb(runner) / 1024.0:0.0} MB");
}

static async Task<double> TimeToFirstOutputAsync(string bundle)
{
    var started = Stopwatch.GetTimestamp();
    using var process = Process.Start(new ProcessStartInfo("dotnet", [bundle, App.DescribeArgument]) { RedirectStandardOutput = true })!;
    await process.StandardOutput.ReadLineAsync();
    var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    await process.WaitForExitAsync();
    return elapsed;
}

public partial class Program
{
    internal const int Warmup = 50;
    internal const string IdleArgument = "--bench-idle";
}

namespace Modal.Bench
{
    /// <summary>Sequential latency of an operation after a warm-up, as p50 and p99 in milliseconds.</summary>
    internal static class Latency
    {
        public static async Task<(double P50, double P99)> MeasureAsync(int calls, int warmup, Func<int, Task> call)
        {
            for (var i = 0; i < warmup; i++)
            {
                await call(i);
            }
            var samples = new double[calls];
            for (var i = 0; i < calls; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await call(i);
                samples[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
            Array.Sort(samples);
            return (samples[calls / 2], samples[(int)(calls * 0.99)]);
        }

        /// <summary>Operations per path in one round of <see cref="InterleavedAsync"/>.</summary>
        public const int Round = 100;

        /// <summary>
        /// Several paths measured in turns of <see cref="Round"/> operations, the first path of each round rotating, so that
        /// every path sees the same moments of a shared machine (other load, a collection, a background recompilation)
        /// instead of one path taking all of a slow spell. Warm-up goes the same way. Per path: p50 and p99 in ms.
        /// </summary>
        public static async Task<(double P50, double P99)[]> InterleavedAsync(int calls, int warmup, params (string Name, Func<int, Task> Call)[] paths)
        {
            await InTurnsAsync(warmup, paths, (_, _, _) => { });
            var samples = paths.Select(_ => new double[calls]).ToArray();
            await InTurnsAsync(calls, paths, (path, i, ms) => samples[path][i] = ms);
            return samples.Select(s =>
            {
                Array.Sort(s);
                return (s[calls / 2], s[(int)(calls * 0.99)]);
            }).ToArray();
        }

        private static async Task InTurnsAsync(int calls, (string Name, Func<int, Task> Call)[] paths, Action<int, int, double> record)
        {
            for (var (start, round) = (0, 0); start < calls; start += Round, round++)
            {
                var end = Math.Min(start + Round, calls);
                for (var turn = 0; turn < paths.Length; turn++)
                {
                    var path = (round + turn) % paths.Length;
                    for (var i = start; i < end; i++)
                    {
                        var started = Stopwatch.GetTimestamp();
                        await paths[path].Call(i);
                        record(path, i, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                }
            }
        }
    }

    /// <summary>The baseline's message.</summary>
    public sealed record Echo(int Value);

    /// <summary>Finds processes and reads their proportional set size from /proc (Linux only).</summary>
    internal static class Processes
    {
        /// <summary>User + system CPU in clock ticks (1/100 s) of every process now, by pid and a short name (the .NET program, or the executable).</summary>
        public static Dictionary<(int Pid, string Name), long> CpuTicksOfEveryProcess()
        {
            var ticks = new Dictionary<(int, string), long>();
            foreach (var folder in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(folder), out var pid))
                {
                    continue;
                }
                try
                {
                    // Fields after the command name (which may hold spaces): utime is field 14, stime 15.
                    var stat = File.ReadAllText($"{folder}/stat");
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    var used = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                    var arguments = File.ReadAllText($"{folder}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
                    var program = arguments.FirstOrDefault(argument => argument.EndsWith(".dll", StringComparison.Ordinal)) ?? arguments.FirstOrDefault() ?? "?";
                    var name = pid == Environment.ProcessId ? "client" : Path.GetFileName(program);
                    ticks[(pid, name)] = used;
                }
                catch (IOException)
                {
                    // Gone meanwhile.
                }
            }
            return ticks;
        }

        /// <summary>
        /// The twelve processes (by name) that used the most CPU between two readings of <see cref="CpuTicksOfEveryProcess"/>,
        /// as "name µs" per operation.
        /// </summary>
        public static List<string> CpuPerOperation(Dictionary<(int Pid, string Name), long> before, Dictionary<(int Pid, string Name), long> after, int operations) =>
            after
                .Select(process => (process.Key.Name, Ticks: process.Value - before.GetValueOrDefault(process.Key)))
                .GroupBy(process => process.Name, (name, group) => (Name: name, Ticks: group.Sum(process => process.Ticks)))
                .Where(process => process.Ticks > 0)
                .OrderByDescending(process => process.Ticks)
                .Take(12)
                .Select(process => $"{process.Name} {process.Ticks * 10_000.0 / operations:0}")
                .ToList();

        public static int? Find(Func<string, bool> commandLine, string? hasVariable = null) =>
            FindAll(commandLine, hasVariable).Cast<int?>().FirstOrDefault();

        /// <summary>Every process whose command line matches (and, when given, whose environment has the variable), oldest first.</summary>
        public static IEnumerable<int> FindAll(Func<string, bool> commandLine, string? hasVariable = null)
        {
            foreach (var folder in Directory.EnumerateDirectories("/proc").OrderBy(folder => int.TryParse(Path.GetFileName(folder), out var pid) ? pid : 0))
            {
                if (!int.TryParse(Path.GetFileName(folder), out var pid) || pid == Environment.ProcessId)
                {
                    continue;
                }
                if (Matches(folder, commandLine, hasVariable))
                {
                    yield return pid;
                }
            }
        }

        private static bool Matches(string folder, Func<string, bool> commandLine, string? hasVariable)
        {
            try
            {
                var args = File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' ');
                return commandLine(args) && (hasVariable is null || File.ReadAllText(Path.Combine(folder, "environ")).Contains(hasVariable + "=", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                return false; // Gone meanwhile.
            }
            catch (UnauthorizedAccessException)
            {
                return false; // Not ours.
            }
        }

        public static long PssKb(int? pid) => File.ReadLines($"/proc/{pid}/smaps_rollup")
            .Where(line => line.StartsWith("Pss:", StringComparison.Ordinal))
            .Select(line => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture))
            .First();
    }
}
