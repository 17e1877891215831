// Maps in C#: run one function over many inputs in parallel, as Modal's f.map/starmap/for_each/spawn_map, and a
// batched function that receives lists while callers send single inputs. Run it with `modal run examples/Maps`.
using Modal;
using MapsExample;

var app = new App("example-maps");
var functions = MapFunctions.Define(app);

app.LocalEntrypoint(async () =>
{
    var squares = await functions.Square.MapAsync(Enumerable.Range(0, 1_000)).ToListAsync();
    Console.WriteLine($"sum of 1,000 squares: {squares.Sum(s => (long)s)}");

    var sums = await functions.Add.StarMapAsync([(1, 2), (3, 4), (5, 6)]).ToListAsync();
    Console.WriteLine($"starmap: {string.Join(", ", sums)}");

    await foreach (var result in functions.FailOnMultiplesOfSeven.MapAsync(Enumerable.Range(5, 5), new MapOptions { ReturnExceptions = true }))
    {
        Console.WriteLine(result.Succeeded ? $"{result.Index}: {result.Value}" : $"{result.Index}: failed ({result.Exception!.Message})");
    }

    var sizes = await functions.BatchSizes.MapAsync(Enumerable.Range(0, 20)).ToListAsync();
    Console.WriteLine($"batched: 20 inputs ran in batches of {string.Join(", ", sizes.Distinct().Order())}");
});

return await app.RunAsync(args);

namespace MapsExample
{
/// <summary>The example's functions, defined on any app named like it (the tests define them on their own handle).</summary>
public sealed record MapFunctions(
    Function<int, int> Square,
    Function<int, int> Noop,
    Function<int, int, int> Add,
    Function<int, int> FailOnMultiplesOfSeven,
    Function<int, int> SlowSquare,
    Function<int, int> BatchSizes,
    Function<int, int> ConcurrencyProbe)
{
    /// <summary>Inputs one container of <see cref="ConcurrencyProbe"/> runs at once.</summary>
    public const int ProbeConcurrency = 4;

    private static int _probeRunning, _probeMostAtOnce;

    /// <summary>Largest batch <see cref="BatchSizes"/> gathers, and how long it waits for one to fill.</summary>
    public static readonly Batching Batching = new(MaxBatchSize: 4, Wait: TimeSpan.FromMilliseconds(300));

    public static MapFunctions Define(App app) => new(
        Square: app.Function("square", (int x) => x * x, new FunctionOptions { MaxConcurrentInputs = 16 }),
        // What the map benchmark runs: nothing, so what is measured is the platform.
        Noop: app.Function("noop", (int x) => x, new FunctionOptions { MaxConcurrentInputs = 64 }),
        Add: app.Function("add", (int a, int b) => a + b, new FunctionOptions { MaxConcurrentInputs = 16 }),
        FailOnMultiplesOfSeven: app.Function("fail_on_multiples_of_7",
            (int x) => x % 7 == 0 ? throw new ArgumentException($"{x} is a multiple of 7.") : x, new FunctionOptions { MaxConcurrentInputs = 16 }),
        SlowSquare: app.Function("slow_square", async (int x) =>
        {
            await Task.Delay(100);
            return x * x;
        }, new FunctionOptions { MaxConcurrentInputs = 8, MaxContainers = 2 }),
        // Each input learns the size of the batch it ran in.
        BatchSizes: app.BatchedFunction("batch_sizes", (IReadOnlyList<int> xs) => (IReadOnlyList<int>)xs.Select(_ => xs.Count).ToList(), Batching),
        // Each input reports the most inputs its container has run at once so far.
        ConcurrencyProbe: app.Function("concurrency_probe", async (int x) =>
        {
            var running = Interlocked.Increment(ref _probeRunning);
            InterlockedMax(ref _probeMostAtOnce, running);
            await Task.Delay(200);
            Interlocked.Decrement(ref _probeRunning);
            return Volatile.Read(ref _probeMostAtOnce);
        }, new FunctionOptions { MaxConcurrentInputs = ProbeConcurrency }));

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var previous && previous != seen)
        {
            seen = previous;
        }
    }
}
}
