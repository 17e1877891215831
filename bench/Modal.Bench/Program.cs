// Warm call latency: a platform RemoteAsync of a no-op function against a bare MassTransit request/response over
// the same broker, measured in the same run. The program is also the app it deploys (its own no-op function),
// so inside a container it is the function server.
//
// Needs the platform up (scripts/up.sh) and a token: set -a; . .infra/apphost/first-token.env; set +a
// Run: dotnet run --project bench/Modal.Bench -c Release -- [calls] [amqp-uri]
// Dict and Queue against raw Redis: dotnet run --project bench/Modal.Bench -c Release -- dict-queue [operations] [items] [redis]
using System.Diagnostics;
using MassTransit;
using Modal;
using Modal.Bench;
using Modal.Deployment;

var app = new App("bench-noop");
var noop = app.Function("noop", (int x) => x);

if (args.Contains(App.DescribeArgument) || Environment.GetEnvironmentVariable(Modal.Container.ContainerProtocol.SocketVariable) is { Length: > 0 })
{
    return await app.RunAsync(args);
}

if (args.Length > 0 && args[0] == "dict-queue")
{
    using var storageClient = ModalClient.FromEnvironment();
    return await DictQueueBench.RunAsync(storageClient,
        args.Length > 3 ? args[3] : "127.0.0.1:6389",
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 2_000,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 20_000);
}

var calls = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 500;
var broker = new Uri(args.Length > 1 ? args[1] : "amqp://guest:guest@127.0.0.1:5682/");

using var client = ModalClient.FromEnvironment();
app.Client = client;
var deployment = await AppDeployer.DeployAsync(client, AppContext.BaseDirectory, "Modal.Bench.dll");
Console.WriteLine($"deployed {deployment.App.Name} (bundle {deployment.Bundle.Id[..12]})");

// Baseline: the same broker, a bare request/response (what one call costs the transport alone).
var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
{
    rabbit.Host(broker);
    rabbit.ReceiveEndpoint("bench-echo", endpoint => endpoint.Handler<Echo>(context => context.RespondAsync(context.Message)));
});
await bus.StartAsync();
var echo = bus.CreateRequestClient<Echo>(new Uri("queue:bench-echo"));

var bare = await Latency.MeasureAsync(calls, Warmup, async i => await echo.GetResponse<Echo>(new Echo(i)));
var platform = await Latency.MeasureAsync(calls, Warmup, async i => await noop.RemoteAsync(i));
await bus.StopAsync();

Console.WriteLine($"calls: {calls} sequential, after {Warmup} warm-up calls each");
Console.WriteLine($"bare MassTransit request/response  p50 {bare.P50:0.000} ms  p99 {bare.P99:0.000} ms");
Console.WriteLine($"platform RemoteAsync (no-op)       p50 {platform.P50:0.000} ms  p99 {platform.P99:0.000} ms");
Console.WriteLine($"ratio p50 {platform.P50 / bare.P50:0.00}x  p99 {platform.P99 / bare.P99:0.00}x");
return 0;


public partial class Program
{
    private const int Warmup = 50;
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
    }

    /// <summary>The baseline's message.</summary>
    public sealed record Echo(int Value);
}
