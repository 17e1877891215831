// Placement and autoscaling simulator: 1,000 runners × 8 GPUs of mixed types, 1,000,000 calls of 40 functions with
// bursty arrivals, driving the Scheduler's real ClusterState (best-fit placement) and Autoscaler in simulated time.
// Reports GPU utilisation at saturation, queueing delay, placement decisions per second (wall clock) and
// double allocations (checked against an independent ledger).
//
// Run: dotnet bench/Modal.PlacementSim/bin/Release/net10.0/Modal.PlacementSim.dll [calls] [runners] [seed]
using System.Diagnostics;
using System.Globalization;
using Modal.Api.Contracts.Gpus;
using Modal.PlacementSim;
using Modal.Scheduler.Autoscaling;
using Modal.Scheduler.Placement;

var calls = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
var runnerCount = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000;
var random = new Random(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 42);

// The fleet: homogeneous nodes, a mix of types across them.
(string Type, double Share)[] fleet =
    [("T4", 0.25), ("L4", 0.15), ("A10G", 0.15), ("L40S", 0.10), ("A100-40GB", 0.10), ("A100-80GB", 0.10), ("H100", 0.10), ("H200", 0.05)];
var cluster = new ClusterState();
var runnerIndex = 0;
foreach (var (type, share) in fleet)
{
    for (var i = 0; i < (int)Math.Round(share * runnerCount) && runnerIndex < runnerCount; i++, runnerIndex++)
    {
        cluster.AddRunner($"runner-{runnerIndex}", Enumerable.Repeat(type, 8).ToList(), 64, 1_000_000);
    }
}

// The workload: 40 functions; most ask for one type, some for several GPUs, some with fallbacks, a few for "any".
var functions = Enumerable.Range(0, 40).Select(i => Workload.Function(i, random)).ToList();
var meanGpuSeconds = functions.Average(f => f.Gpus * f.MeanServiceSeconds);
// Arrivals: a base rate at ~70 % of the fleet's throughput with bursts at ~3×, so the fleet saturates in bursts.
var capacityPerSecond = cluster.TotalGpus / meanGpuSeconds;
var runnerTypes = Enumerable.Range(0, runnerIndex).ToDictionary(i => $"runner-{i}", i => fleet[FleetSlot(i)].Type);
var simulation = new Simulation(cluster, runnerTypes, functions, random, calls, baseRate: 0.7 * capacityPerSecond, burstRate: 3 * capacityPerSecond);

var wall = Stopwatch.StartNew();
var report = simulation.Run();
wall.Stop();

Console.WriteLine($"fleet: {cluster.RunnerCount} runners, {cluster.TotalGpus} GPUs ({string.Join(", ", fleet.Select(f => $"{f.Type} {f.Share:P0}"))})");
Console.WriteLine($"calls: {report.Calls:N0} of {functions.Count} functions over {report.SimulatedSeconds:N0} simulated s (wall {wall.Elapsed.TotalSeconds:0.0} s)");
Console.WriteLine($"GPU utilisation at saturation: {report.AllocatedAtSaturation:P1} allocated, {report.BusyAtSaturation:P1} running inputs " +
    $"(GPUs of the types that had a request turned away, over the {report.SaturatedTicks:N0} seconds it happened)");
Console.WriteLine($"queueing delay: p50 {report.DelayP50:0.00} s, p99 {report.DelayP99:0.00} s (arrival → input starts, cold starts of 2 s included)");
Console.WriteLine($"placement decisions: {report.Decisions:N0}, {report.DecisionsPerSecond:N0}/s, p50 {report.DecisionP50Us:0.0} µs, p99 {report.DecisionP99Us:0.0} µs, max {report.DecisionMaxUs:0.0} µs");
Console.WriteLine($"double allocations: {report.DoubleAllocations}");
return report.DoubleAllocations == 0 ? 0 : 1;

int FleetSlot(int runner)
{
    var boundary = 0;
    for (var slot = 0; slot < fleet.Length; slot++)
    {
        boundary += (int)Math.Round(fleet[slot].Share * runnerCount);
        if (runner < boundary)
        {
            return slot;
        }
    }
    return fleet.Length - 1;
}

namespace Modal.PlacementSim
{
    internal sealed record FunctionSpec(int Id, IReadOnlyList<GpuRequest> Candidates, int Gpus, double MeanServiceSeconds, ScalingBounds Bounds);

    internal static class Workload
    {
        private static readonly string[] Types = ["T4", "L4", "A10G", "L40S", "A100-40GB", "A100-80GB", "H100", "H200"];

        public static FunctionSpec Function(int id, Random random)
        {
            var count = random.NextDouble() switch { < 0.6 => 1, < 0.8 => 2, < 0.93 => 4, _ => 8 };
            var type = Types[random.Next(Types.Length)];
            var candidates = random.NextDouble() switch
            {
                < 0.1 => [new GpuRequest(GpuRequest.Any, count)],
                < 0.35 => [new GpuRequest(type, count), new GpuRequest(Types[random.Next(Types.Length)], count)],
                _ => new List<GpuRequest> { new(type, count) },
            };
            return new FunctionSpec(id, candidates, count, 2 + (random.NextDouble() * 18),
                new ScalingBounds(MinContainers: 0, MaxContainers: null, BufferContainers: 0, ScaledownWindow: TimeSpan.FromSeconds(60), InputsPerContainer: 1));
        }
    }

    internal sealed record Report(
        int Calls, double SimulatedSeconds, double AllocatedAtSaturation, double BusyAtSaturation, int SaturatedTicks,
        double DelayP50, double DelayP99, long Decisions, double DecisionsPerSecond, double DecisionP50Us, double DecisionP99Us,
        double DecisionMaxUs, int DoubleAllocations);

    /// <summary>Discrete-time simulation, one autoscaler pass per simulated second.</summary>
    internal sealed class Simulation(
        ClusterState cluster, IReadOnlyDictionary<string, string> runnerTypes, IReadOnlyList<FunctionSpec> functions, Random random, int calls,
        double baseRate, double burstRate)
    {
        private const double ColdStartSeconds = 2;

        private sealed class Container(string id, FunctionSpec function, ContainerPlacement placement, double readyAt)
        {
            public string Id { get; } = id;
            public FunctionSpec Function { get; } = function;
            public ContainerPlacement Placement { get; } = placement;
            public double ReadyAt { get; } = readyAt;
            public double BusyUntil { get; set; } = -1;
            public double LastBusyAt { get; set; } = readyAt;
        }

        private readonly Dictionary<(string Runner, int Gpu), string> _ledger = [];
        private readonly List<double> _decisionMicros = [];
        private readonly List<double> _delays = [];
        private int _doubleAllocations;
        private long _containerIds;

        public Report Run()
        {
            var backlog = functions.ToDictionary(f => f.Id, _ => new Queue<double>());
            var containers = functions.ToDictionary(f => f.Id, _ => new List<Container>());
            var generated = 0;
            var second = 0;
            double allocatedSum = 0, busySum = 0;
            var saturated = 0;
            var weights = functions.Select(_ => random.NextDouble()).ToArray();
            var weightTotal = weights.Sum();
            var decisionTicks = 0L;

            while (generated < calls || backlog.Values.Any(q => q.Count > 0) || containers.Values.Any(list => list.Any(c => c.BusyUntil > second)))
            {
                // Arrivals this second: a burst for 60 s out of every 300 s.
                var rate = second % 300 < 60 ? burstRate : baseRate;
                var arrivals = Math.Min(calls - generated, Poisson(rate));
                for (var i = 0; i < arrivals; i++)
                {
                    backlog[Pick(weights, weightTotal)].Enqueue(second + random.NextDouble());
                }
                generated += arrivals;

                var refusedTypes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                foreach (var function in functions)
                {
                    var queue = backlog[function.Id];
                    var own = containers[function.Id];
                    // Containers take inputs as soon as they are ready and free, within this second.
                    foreach (var container in own.OrderBy(c => c.BusyUntil))
                    {
                        var free = Math.Max(container.ReadyAt, container.BusyUntil);
                        while (queue.Count > 0 && free < second + 1)
                        {
                            var arrived = queue.Peek();
                            var start = Math.Max(free, arrived);
                            if (start >= second + 1)
                            {
                                break;
                            }
                            queue.Dequeue();
                            _delays.Add(start - arrived);
                            free = start + Exponential(function.MeanServiceSeconds);
                            container.LastBusyAt = free;
                        }
                        container.BusyUntil = free;
                    }

                    var running = own.Count(c => c.BusyUntil > second + 1);
                    var load = new FunctionLoad(queue.Count, running, own
                        .Select(c => new ContainerActivity(c.Id, c.BusyUntil > second + 1 || c.ReadyAt > second + 1 ? 1 : 0,
                            DateTimeOffset.UnixEpoch.AddSeconds(Math.Min(c.LastBusyAt, second + 1))))
                        .ToList());
                    var decision = Autoscaler.Decide(function.Bounds, load, DateTimeOffset.UnixEpoch.AddSeconds(second + 1));
                    foreach (var stop in decision.Stop)
                    {
                        var container = own.Single(c => c.Id == stop);
                        Release(container);
                        own.Remove(container);
                    }
                    for (var i = 0; i < decision.Start; i++)
                    {
                        var id = $"c{_containerIds++}";
                        var started = Stopwatch.GetTimestamp();
                        var placement = cluster.TryPlace(new ContainerRequest(id, function.Candidates, 1, 8_000));
                        var elapsed = Stopwatch.GetTimestamp() - started;
                        decisionTicks += elapsed;
                        _decisionMicros.Add(elapsed * 1_000_000.0 / Stopwatch.Frequency);
                        if (placement is null)
                        {
                            // Every type the request would take is full (or too fragmented for its count).
                            refusedTypes.UnionWith(runnerTypes.Values.Distinct().Where(type => function.Candidates.Any(c => c.Accepts(type))));
                            break; // The fleet cannot take more of this function now; its backlog waits.
                        }
                        Record(placement);
                        own.Add(new Container(id, function, placement, second + 1 + ColdStartSeconds));
                    }
                }

                if (refusedTypes.Count > 0)
                {
                    // Utilisation of the saturated types only: a full H100 pool says nothing about idle T4s.
                    var total = runnerTypes.Values.Count(refusedTypes.Contains) * 8.0;
                    var allocated = _ledger.Keys.Count(key => refusedTypes.Contains(runnerTypes[key.Runner]));
                    var busy = containers.Values.SelectMany(list => list)
                        .Where(c => c.BusyUntil > second + 1 && refusedTypes.Contains(runnerTypes[c.Placement.RunnerId]))
                        .Sum(c => c.Placement.GpuIndices.Count);
                    saturated++;
                    allocatedSum += allocated / total;
                    busySum += busy / total;
                }
                second++;
            }

            _delays.Sort();
            _decisionMicros.Sort();
            return new Report(
                _delays.Count, second, saturated == 0 ? 0 : allocatedSum / saturated, saturated == 0 ? 0 : busySum / saturated, saturated,
                Percentile(_delays, 0.5), Percentile(_delays, 0.99),
                _decisionMicros.Count, _decisionMicros.Count / (decisionTicks / (double)Stopwatch.Frequency),
                Percentile(_decisionMicros, 0.5), Percentile(_decisionMicros, 0.99), _decisionMicros[^1], _doubleAllocations);
        }

        private void Record(ContainerPlacement placement)
        {
            foreach (var gpu in placement.GpuIndices)
            {
                if (!_ledger.TryAdd((placement.RunnerId, gpu), placement.ContainerId))
                {
                    _doubleAllocations++;
                }
            }
        }

        private void Release(Container container)
        {
            cluster.Release(container.Id);
            foreach (var gpu in container.Placement.GpuIndices)
            {
                _ledger.Remove((container.Placement.RunnerId, gpu));
            }
        }

        private int Pick(double[] weights, double total)
        {
            var target = random.NextDouble() * total;
            for (var i = 0; i < weights.Length; i++)
            {
                target -= weights[i];
                if (target <= 0)
                {
                    return i;
                }
            }
            return weights.Length - 1;
        }

        private double Exponential(double mean) => -mean * Math.Log(1 - random.NextDouble());

        private int Poisson(double rate) => (int)Math.Max(0, Math.Round(rate + (Math.Sqrt(rate) * Normal())));

        private double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

        private static double Percentile(List<double> sorted, double p) => sorted.Count == 0 ? 0 : sorted[(int)Math.Min(sorted.Count - 1, p * sorted.Count)];
    }
}
