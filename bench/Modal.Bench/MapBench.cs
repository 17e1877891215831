using System.Diagnostics;
using System.Globalization;
using MassTransit;

namespace Modal.Bench;

/// <summary>
/// A no-op map of N inputs through the platform against the raw rate of the same broker: N durable messages sent with
/// publisher confirms and consumed (prefetch 64) in the same run. Reports inputs per second of each and the peak
/// memory (VmHWM) of the client, the Api, the runner and the container.
/// </summary>
internal static class MapBench
{
    private const int WarmUpInputs = 20_000;

    /// <param name="mapNoop">The no-op function mapped over.</param>
    /// <param name="baseline">The broker for the raw baseline; null: the platform's map only.</param>
    /// <param name="inputs">How many inputs the timed map has.</param>
    public static async Task RunAsync(Function<int, int> mapNoop, Uri? baseline, int inputs)
    {
        // A warm container and warm services first (enough inputs for tiered JIT to compile the hot paths): the map
        // measures steady throughput, not a cold start. The raw baseline gets the same warm-up.
        await mapNoop.MapAsync(Enumerable.Range(0, WarmUpInputs)).CountAsync();

        // CPU of every process on the machine, read around the timed map only: where each input's cost lands.
        var cpuBefore = Processes.CpuTicksOfEveryProcess();
        var started = Stopwatch.GetTimestamp();
        var checksum = 0L;
        await foreach (var result in mapNoop.MapAsync(Enumerable.Range(0, inputs)))
        {
            checksum += result;
        }
        var platformSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var cpuAfter = Processes.CpuTicksOfEveryProcess();
        var cpuPerInput = Processes.CpuPerOperation(cpuBefore, cpuAfter, inputs);
        if (checksum != (long)inputs * (inputs - 1) / 2)
        {
            throw new InvalidOperationException($"The map's results are wrong (checksum {checksum}).");
        }
        var clientPeak = PeakKb(Environment.ProcessId);
        var apiPeak = PeakKb(Processes.Find(command => command.Contains("Modal.Api", StringComparison.Ordinal)));
        var runnerPeak = PeakKb(Processes.Find(command => command.Contains("Modal.GpuRunner", StringComparison.Ordinal)));
        var containerPeak = PeakKb(ContainerPid());

        Console.WriteLine($"== map: {inputs:N0} no-op inputs (warm container, MaxConcurrentInputs 64)");
        if (baseline is not null)
        {
            var rawSeconds = await RawPublishConsumeAsync(baseline, inputs);
            Console.WriteLine($"raw MassTransit send+consume   {inputs / rawSeconds,10:N0} msg/s     ({rawSeconds:0.00} s)");
            Console.WriteLine($"platform MapAsync              {inputs / platformSeconds,10:N0} inputs/s  ({platformSeconds:0.00} s)");
            Console.WriteLine($"ratio {rawSeconds / platformSeconds:0.00}x the raw per-message rate");
        }
        else
        {
            Console.WriteLine($"platform MapAsync              {inputs / platformSeconds,10:N0} inputs/s  ({platformSeconds:0.00} s)");
        }
        Console.WriteLine($"CPU per input (µs): {string.Join(", ", cpuPerInput)}");
        Console.WriteLine($"peak memory (VmHWM): client {clientPeak / 1024.0:0} MB, api {apiPeak / 1024.0:0} MB, runner {runnerPeak / 1024.0:0} MB, container {containerPeak / 1024.0:0} MB");
    }

    /// <summary>
    /// Seconds to send <paramref name="count"/> durable messages (confirmed) and consume them all, one message each,
    /// after an untimed round of <see cref="WarmUpInputs"/>.
    /// </summary>
    private static async Task<double> RawPublishConsumeAsync(Uri broker, int count)
    {
        var consumed = 0;
        var expected = WarmUpInputs;
        var allConsumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(broker);
            rabbit.ReceiveEndpoint("bench-raw-map", endpoint =>
            {
                endpoint.PrefetchCount = 64;
                endpoint.Handler<RawInput>(_ =>
                {
                    if (Interlocked.Increment(ref consumed) == Volatile.Read(ref expected))
                    {
                        allConsumed.TrySetResult();
                    }
                    return Task.CompletedTask;
                });
            });
        });
        await bus.StartAsync();
        var queue = await bus.GetSendEndpoint(new Uri("queue:bench-raw-map"));
        await SendAsync(queue, WarmUpInputs);
        await allConsumed.Task;

        Volatile.Write(ref consumed, 0);
        allConsumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref expected, count);
        var started = Stopwatch.GetTimestamp();
        await SendAsync(queue, count);
        await allConsumed.Task;
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        await bus.StopAsync();
        return seconds;
    }

    /// <summary>Sends <paramref name="count"/> inputs with as many in flight as the platform's client keeps, so both are paced alike.</summary>
    private static async Task SendAsync(ISendEndpoint queue, int count)
    {
        var window = new SemaphoreSlim(1_000);
        var sends = new List<Task>(count);
        for (var i = 0; i < count; i++)
        {
            await window.WaitAsync();
            sends.Add(queue.Send(new RawInput(i, "{\"x\":" + i.ToString(CultureInfo.InvariantCulture) + "}")).ContinueWith(_ => window.Release(), TaskScheduler.Default));
        }
        await Task.WhenAll(sends);
    }

    /// <summary>The function's container: the dotnet process itself, not the bubblewrap process that started it (the newest of those that match).</summary>
    private static int? ContainerPid() => Processes.FindAll(command => command.Contains("Modal.Bench.dll", StringComparison.Ordinal), "MODAL_FUNCTION_SOCKET")
        .Where(pid => File.ReadAllText($"/proc/{pid}/comm").Trim() == "dotnet")
        .Cast<int?>()
        .LastOrDefault();

    private static long PeakKb(int? pid) => pid is null ? 0 : File.ReadLines($"/proc/{pid}/status")
        .Where(line => line.StartsWith("VmHWM:", StringComparison.Ordinal))
        .Select(line => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture))
        .FirstOrDefault();
}

/// <summary>The raw baseline's message: what a map input carries.</summary>
public sealed record RawInput(int Index, string ArgumentsJson);
