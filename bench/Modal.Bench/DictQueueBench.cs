using System.Diagnostics;
using Modal.Rest;
using StackExchange.Redis;

namespace Modal.Bench;

/// <summary>
/// Dict and Queue against raw StackExchange.Redis on the Redis that Storage uses, in the same run:
/// SDK <c>Dict.GetAsync</c>/<c>PutAsync</c> p50 against GET/SET (sequential, the paths taking turns of 100 operations),
/// and <c>Queue.PutManyAsync</c> throughput against pipelined SET of the same items in the same batch sizes.
/// </summary>
/// <remarks>
/// The latency paths take turns because, measured one after another, the first run after a platform start had the
/// slowest Put in six sessions of seven (see docs/benchmarks.md): the path measured right after its own warm-up took the
/// whole of Storage's background recompilation and whatever else the shared machine did in that second.
/// </remarks>
internal static class DictQueueBench
{
    private const int Batch = 1_000;

    public static async Task<int> RunAsync(ModalClient client, string redisConnection, int operations, int items, int warmup)
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(redisConnection);
        var db = redis.GetDatabase();
        var value = new string('v', 100);
        var run = Guid.NewGuid().ToString("N")[..8];

        await using var dict = await Dict.EphemeralAsync(client);
        await using var queue = await Queue.EphemeralAsync(client);

        // Not a target, a floor for reading the figures: one bare HTTP round trip to Storage (its liveness endpoint, no
        // Redis behind it), so what the SDK path adds beyond its one hop is visible; and the same Dict read as the SDK's,
        // by hand (credential header, body read as bytes): what the SDK itself adds.
        var access = await ModalRestClient.For<IStorageAccessApi>(client.Http).IssueCredentialAsync();
        using var bare = new HttpClient { BaseAddress = access.StorageUrl };
        using var bareDict = new HttpClient { BaseAddress = access.StorageUrl };
        bareDict.DefaultRequestHeaders.Add("Modal-Storage-Credential", access.Credential);

        var latencies = await Latency.InterleavedAsync(operations, warmup,
            ("raw SET", i => db.StringSetAsync($"bench:{run}:{i % 100}", value)),
            ("raw GET", i => db.StringGetAsync($"bench:{run}:{i % 100}")),
            ("SDK Put", i => dict.PutAsync($"k{i % 100}", value)),
            ("SDK Get", i => dict.GetAsync<string>($"k{i % 100}")),
            ("bare /alive", async _ => (await bare.GetAsync(new Uri("/alive", UriKind.Relative))).Dispose()),
            ("bare Dict GET", async i => await bareDict.GetByteArrayAsync(new Uri($"/v1/dicts/{dict.Name}/entry?key=k{i % 100}", UriKind.Relative))));
        var (rawSet, rawGet, sdkPut, sdkGet, bareHttp, bareGet) =
            (latencies[0], latencies[1], latencies[2], latencies[3], latencies[4], latencies[5]);

        var batches = items / Batch;
        var rawPipelined = await ThroughputAsync(batches, async b =>
        {
            var writes = Enumerable.Range(0, Batch).Select(i => db.StringSetAsync($"bench:{run}:q:{b}:{i}", value)).ToArray();
            await Task.WhenAll(writes);
        });
        var sdkPutMany = await ThroughputAsync(batches, async b =>
        {
            // A partition holds 5,000 items: each batch gets its own.
            await queue.PutManyAsync(Enumerable.Repeat(value, Batch), new QueuePutOptions { Partition = $"p{b}" });
        });
        await queue.ClearAsync(all: true);
        await db.KeyDeleteAsync(Enumerable.Range(0, 100).Select(i => (RedisKey)$"bench:{run}:{i}").ToArray());
        // The pipelined keys too (the warm-up batch is -1): left behind, every run added 21,000 keys to the platform's
        // Redis and its append-only file, which Redis rewrites (fork, write, fsync) when it has grown enough.
        for (var b = -1; b < batches; b++)
        {
            var batch = b;
            await db.KeyDeleteAsync(Enumerable.Range(0, Batch).Select(i => (RedisKey)$"bench:{run}:q:{batch}:{i}").ToArray());
        }

        Console.WriteLine($"{operations} sequential operations of each path after {warmup} warm-up, interleaved in rounds of {Latency.Round}; {batches} batches of {Batch} items of 100 characters");
        Console.WriteLine($"raw SET p50 {rawSet.P50:0.000} ms  p99 {rawSet.P99:0.000} ms");
        Console.WriteLine($"raw GET p50 {rawGet.P50:0.000} ms  p99 {rawGet.P99:0.000} ms");
        Console.WriteLine($"SDK Dict.PutAsync p50 {sdkPut.P50:0.000} ms  p99 {sdkPut.P99:0.000} ms  ratio p50 {sdkPut.P50 / rawSet.P50:0.0}x");
        Console.WriteLine($"SDK Dict.GetAsync p50 {sdkGet.P50:0.000} ms  p99 {sdkGet.P99:0.000} ms  ratio p50 {sdkGet.P50 / rawGet.P50:0.0}x");
        Console.WriteLine($"bare HTTP GET to Storage (/alive, no Redis) p50 {bareHttp.P50:0.000} ms  p99 {bareHttp.P99:0.000} ms");
        Console.WriteLine($"bare HTTP GET of the Dict entry (no SDK) p50 {bareGet.P50:0.000} ms  p99 {bareGet.P99:0.000} ms");
        Console.WriteLine($"raw pipelined SET {rawPipelined:0} items/s");
        Console.WriteLine($"SDK Queue.PutManyAsync {sdkPutMany:0} items/s  ratio {sdkPutMany / rawPipelined:0.00}x");
        return 0;
    }

    private static async Task<double> ThroughputAsync(int batches, Func<int, Task> batch)
    {
        await batch(-1);
        var started = Stopwatch.GetTimestamp();
        for (var b = 0; b < batches; b++)
        {
            await batch(b);
        }
        return batches * Batch / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}
