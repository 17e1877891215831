using System.Collections.Concurrent;
using System.Net;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>The SDK's Queue through the Api (token auth, forwarding) to Storage on the real Redis.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class QueueTests(StorageBehindApi platform, InfrastructureFixture infrastructure) : IClassFixture<StorageBehindApi>
{
    private static readonly QueueGetOptions NoWait = new() { Block = false };

    [Fact]
    public async Task PutThenGet_ReturnsItemsFirstInFirstOut()
    {
        var queue = await NewQueueAsync();

        await queue.PutAsync("one");
        await queue.PutManyAsync(["two", "three"]);

        Assert.Equal("one", await queue.GetAsync<string>());
        Assert.Equal(["two", "three"], await queue.GetManyAsync<string>(10));
    }

    [Fact]
    public async Task FourConsumers_OneQueue_EveryItemDeliveredExactlyOnce()
    {
        var queue = await NewQueueAsync();
        const int Items = 2_000;
        var delivered = new ConcurrentBag<int>();

        var consumers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var consumer = Queue.FromName(platform.Client, queue.Name);
            while (true)
            {
                IReadOnlyList<int> items;
                try
                {
                    items = await consumer.GetManyAsync<int>(7, new QueueGetOptions { Timeout = TimeSpan.FromSeconds(3) });
                }
                catch (QueueEmptyException)
                {
                    return;
                }
                foreach (var item in items)
                {
                    delivered.Add(item);
                }
            }
        })).ToList();
        foreach (var chunk in Enumerable.Range(0, Items).Chunk(100))
        {
            await queue.PutManyAsync(chunk);
        }
        await Task.WhenAll(consumers);

        Assert.Equal(Enumerable.Range(0, Items), delivered.Order());
        Assert.Equal(0, await queue.LenAsync());
    }

    [Fact]
    public async Task GetAsync_BlockedOnAnEmptyQueue_WakesOnAPut()
    {
        var queue = await NewQueueAsync();
        var consumer = Queue.FromName(platform.Client, queue.Name);

        // Longer than the test would wait: only the put's wake-up, not the timeout, can finish this get in time.
        var get = consumer.GetAsync<string>(new QueueGetOptions { Timeout = TimeSpan.FromMinutes(5) });
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.False(get.IsCompleted, "the get must be waiting before the put");
        await queue.PutAsync("wake up");

        Assert.Equal("wake up", await get.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task GetAsync_EmptyQueue_ThrowsQueueEmptyBlockingWithTimeoutAndNotBlocking()
    {
        var queue = await NewQueueAsync();

        await Assert.ThrowsAsync<QueueEmptyException>(() => queue.GetAsync<int>(NoWait));
        await Assert.ThrowsAsync<QueueEmptyException>(() => queue.GetAsync<int>(new QueueGetOptions { Timeout = TimeSpan.FromSeconds(1) }));
        Assert.Empty(await queue.GetManyAsync<int>(5, NoWait));
    }

    [Fact]
    public async Task Partitions_AreSeparate_LenPerPartitionAndTotal_ClearOneOrAll()
    {
        var queue = await NewQueueAsync();
        await queue.PutManyAsync([1, 2, 3], new QueuePutOptions { Partition = "a" });
        await queue.PutManyAsync([4, 5], new QueuePutOptions { Partition = "b" });
        await queue.PutAsync(6);

        Assert.Equal(3, await queue.LenAsync("a"));
        Assert.Equal(1, await queue.LenAsync());
        Assert.Equal(6, await queue.LenAsync(total: true));
        Assert.Equal(4, await queue.GetAsync<int>(new QueueGetOptions { Partition = "b", Block = false }));

        await queue.ClearAsync("a");
        Assert.Equal(0, await queue.LenAsync("a"));
        Assert.Equal(2, await queue.LenAsync(total: true));

        await queue.ClearAsync(all: true);
        Assert.Equal(0, await queue.LenAsync(total: true));
    }

    [Fact]
    public async Task IterateAsync_ReadsEveryItemWithoutRemovingIt()
    {
        var queue = await NewQueueAsync();
        await queue.PutManyAsync(Enumerable.Range(0, 250));

        var seen = new List<int>();
        await foreach (var item in queue.IterateAsync<int>())
        {
            seen.Add(item);
        }

        Assert.Equal(Enumerable.Range(0, 250), seen);
        Assert.Equal(250, await queue.LenAsync());
    }

    [Fact]
    public async Task PutManyAsync_PastFiveThousandItems_ThrowsQueueFullAndAddsNothing()
    {
        var queue = await NewQueueAsync();
        await queue.PutManyAsync(Enumerable.Range(0, 4_990));

        await Assert.ThrowsAsync<QueueFullException>(() => queue.PutManyAsync(Enumerable.Range(0, 11)));

        Assert.Equal(4_990, await queue.LenAsync());
        await queue.PutManyAsync(Enumerable.Range(0, 10));
        Assert.Equal(5_000, await queue.LenAsync());
        await Assert.ThrowsAsync<QueueFullException>(() => queue.PutAsync(1));
    }

    [Fact]
    public async Task PutAsync_ItemOver1MiB_ThrowsRequestSizeExceptionFrom413()
    {
        var queue = await NewQueueAsync();

        await Assert.ThrowsAsync<RequestSizeException>(() => queue.PutAsync(new string('x', 1024 * 1024)));
        Assert.Equal(0, await queue.LenAsync());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a-partition-key-that-is-longer-than-sixty-four-bytes-is-refused-x")]
    public async Task Put_InvalidPartitionKey_Returns400NamingTheRule(string partition)
    {
        var queue = await NewQueueAsync();

        using var response = await platform.Client.Http.PostAsync(
            new Uri($"/v1/queues/{queue.Name}/items?partition={partition}", UriKind.Relative), new StringContent("[1]"));
        var error = await Assert.ThrowsAsync<ArgumentException>(() => queue.PutAsync(1, new QueuePutOptions { Partition = partition }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("1-64 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownQueue_ThrowsNotFoundNamingIt()
    {
        var name = $"missing-{Guid.NewGuid():N}";

        var error = await Assert.ThrowsAsync<NotFoundException>(() => Queue.FromName(platform.Client, name).PutAsync(1));

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Partition_PastItsTtlAfterTheLastPut_IsCleared()
    {
        var queue = await NewQueueAsync();
        await queue.PutManyAsync([1, 2], new QueuePutOptions { Partition = "short", PartitionTtl = TimeSpan.FromSeconds(1) });
        await queue.PutAsync(3);

        await Eventually.ReturnsAsync(() => queue.LenAsync("short"), length => length == 0, "the partition expires");

        Assert.Equal(1, await queue.LenAsync(total: true));
    }

    [Fact]
    public async Task Ephemeral_UsableWhileHeld_GoneOnceDisposed()
    {
        string name;
        await using (var queue = await Queue.EphemeralAsync(platform.Client))
        {
            name = queue.Name;
            await queue.PutAsync(1);
            Assert.Equal(1, await queue.GetAsync<int>(NoWait));
        }

        await Assert.ThrowsAsync<NotFoundException>(() => Queue.FromName(platform.Client, name).LenAsync());
        Assert.DoesNotContain(await Queue.ListAsync(platform.Client), q => q.Name == name);
    }

    [Fact]
    public async Task RemoteFunction_ProducesToAQueue_TheEntrypointConsumesEveryItem()
    {
        var queue = await NewQueueAsync();
        var app = new App($"producer-{Guid.NewGuid():N}"[..20]) { Client = platform.Client };
        var produce = app.Function("produce", async (string queueName, int count) =>
        {
            // Inside the function: the app's own client, as a container's function would use it.
            await Queue.FromName(app.Client, queueName).PutManyAsync(Enumerable.Range(0, count).Select(i => $"item-{i}"));
            return count;
        });
        await using var runner = await TestRunnerBus.ExecutingAsync(infrastructure.RabbitMqConnectionString, app, "produce");

        var call = await produce.SpawnAsync(queue.Name, 25);
        var consumed = new List<string?>();
        while (consumed.Count < 25)
        {
            consumed.AddRange(await queue.GetManyAsync<string>(10, new QueueGetOptions { Timeout = TimeSpan.FromSeconds(60) }));
        }

        Assert.Equal(25, await call.GetAsync());
        Assert.Equal(Enumerable.Range(0, 25).Select(i => $"item-{i}"), consumed);
    }

    /// <summary>A new Queue, created now so that other handles (consumers, functions) find it.</summary>
    private async Task<Queue> NewQueueAsync()
    {
        var queue = Queue.FromName(platform.Client, $"queue-{Guid.NewGuid():N}", createIfMissing: true);
        await queue.InfoAsync();
        return queue;
    }
}
