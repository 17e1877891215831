using System.Collections.Concurrent;
using System.Diagnostics;
using MassTransit;
using Modal.Contracts.Containers;

namespace Modal.Bench;

/// <summary>
/// Autoscaler reaction on the real stack: with the function scaled to zero, <c>containers</c> long inputs are queued at
/// once; timed from just before the first is sent to the first <see cref="ContainerStarted"/> (a container is up and
/// listening) and to the last of the <c>containers</c> starts the backlog calls for. The baseline is a bare
/// <c>dotnet</c> start of the same program to its first output, measured in the same run.
/// </summary>
internal static class ScaleBench
{
    private const string AppName = "bench-noop";
    private const string FunctionName = "sleeper";

    public static async Task RunAsync(ModalClient client, Func<int, Task<FunctionCall<int>>> spawnSleeper, Uri broker, int containers, int runs,
        Func<Task<double>> bareStart)
    {
        var started = new ConcurrentQueue<(long At, ContainerStarted Event)>();
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(broker);
            rabbit.ReceiveEndpoint($"bench-scale-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.Handler<ContainerStarted>(context =>
                {
                    started.Enqueue((Stopwatch.GetTimestamp(), context.Message));
                    return Task.CompletedTask;
                });
            });
        });
        await bus.StartAsync();
        var sleeper = Function.FromName(client, AppName, FunctionName);
        await sleeper.UpdateAutoscalerAsync(minContainers: 0, maxContainers: containers, scaledownWindow: TimeSpan.FromSeconds(2));

        var bare = new double[runs];
        var first = new double[runs];
        var all = new double[runs];
        for (var run = 0; run < runs; run++)
        {
            bare[run] = await bareStart();
            while ((await sleeper.GetCurrentStatsAsync()).Containers > 0)
            {
                await Task.Delay(200); // Scaled to zero before each run: every container is a cold start.
            }
            started.Clear();
            var sent = Stopwatch.GetTimestamp();
            // Long enough that the backlog still asks for every container when the last one is up.
            var calls = await Task.WhenAll(Enumerable.Range(0, containers).Select(_ => spawnSleeper(15_000)));
            var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 120;
            while (started.Count(e => e.Event.FunctionName == FunctionName) < containers && Stopwatch.GetTimestamp() < deadline)
            {
                await Task.Delay(5);
            }
            var ours = started.Where(e => e.Event.FunctionName == FunctionName).Select(e => e.At).Order().ToList();
            first[run] = Stopwatch.GetElapsedTime(sent, ours[0]).TotalMilliseconds;
            all[run] = ours.Count >= containers ? Stopwatch.GetElapsedTime(sent, ours[containers - 1]).TotalMilliseconds : double.NaN;
            await FunctionCall.GatherAsync(calls);
            Console.WriteLine($"run {run + 1}: bare start {bare[run]:0} ms, first container {first[run]:0} ms, {containers} containers {all[run]:0} ms");
        }
        await bus.StopAsync();
        Array.Sort(bare);
        Array.Sort(first);
        Array.Sort(all);
        Console.WriteLine($"== scale: {runs} runs, backlog of {containers} from zero containers");
        Console.WriteLine($"bare `dotnet Modal.Bench.dll` to first output      p50 {bare[runs / 2]:0} ms  max {bare[^1]:0} ms");
        Console.WriteLine($"backlog → first container running                 p50 {first[runs / 2]:0} ms  max {first[^1]:0} ms");
        Console.WriteLine($"backlog → {containers} containers running                  p50 {all[runs / 2]:0} ms  max {all[^1]:0} ms");
    }
}
