using System.Net;
using System.Net.Http.Json;
using MapsExample;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>Maps on the real spine: the Api, RabbitMQ, Redis, a runner and containers running examples/Maps.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class MapTests(SpineFixture spine) : IClassFixture<SpineFixture>
{
    private MapFunctions Functions => MapFunctions.Define(new App(spine.Maps) { Client = spine.Client });

    [Fact]
    public async Task MapAsync_TenThousandInputs_ReturnsEveryResultInInputOrder()
    {
        var results = await Functions.Square.MapAsync(Enumerable.Range(0, 10_000)).ToListAsync();

        Assert.Equal(Enumerable.Range(0, 10_000).Select(i => i * i), results);
    }

    [Fact]
    public async Task MapAsync_Unordered_ReturnsEveryResultWithItsIndex()
    {
        var results = await Functions.SlowSquare.MapAsync(Enumerable.Range(0, 300), new MapOptions { OrderOutputs = false }).ToListAsync();

        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), results.Select(r => r.Index).Order());
        Assert.All(results, r => Assert.Equal(r.Index * r.Index, r.Value));
    }

    [Fact]
    public async Task MapAsync_ReturnExceptions_FailuresComeBackInPlace()
    {
        var results = await Functions.FailOnMultiplesOfSeven.MapAsync(Enumerable.Range(0, 50), new MapOptions { ReturnExceptions = true }).ToListAsync();

        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), results.Select(r => r.Index));
        foreach (var result in results)
        {
            if (result.Index % 7 == 0)
            {
                var failure = Assert.IsType<RemoteFunctionException>(result.Exception);
                Assert.Equal(typeof(ArgumentException).FullName, failure.RemoteType);
                Assert.Contains($"{result.Index} is a multiple of 7", failure.Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.True(result.Succeeded);
                Assert.Equal(result.Index, result.Value);
            }
        }
    }

    [Fact]
    public async Task MapAsync_WithoutReturnExceptions_TheFirstFailureThrows()
    {
        var error = await Assert.ThrowsAsync<RemoteFunctionException>(async () =>
            await Functions.FailOnMultiplesOfSeven.MapAsync(Enumerable.Range(1, 20)).ToListAsync());

        Assert.Contains("7 is a multiple of 7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StarMapAsync_UnpacksEachTupleIntoTheParameters()
    {
        var sums = await Functions.Add.StarMapAsync(Enumerable.Range(0, 100).Select(i => (i, 1000 * i))).ToListAsync();

        Assert.Equal(Enumerable.Range(0, 100).Select(i => 1001 * i), sums);
    }

    [Fact]
    public async Task ForEachAsync_CompletesWhenEveryInputRan_AndThrowsOnAFailure()
    {
        await Functions.Square.ForEachAsync(Enumerable.Range(0, 200));

        await Assert.ThrowsAsync<RemoteFunctionException>(() => Functions.FailOnMultiplesOfSeven.ForEachAsync(Enumerable.Range(0, 10)));
    }

    [Fact]
    public async Task SpawnMapAsync_OutputsAreReadLaterThroughTheHandle()
    {
        var spawned = await Functions.Square.SpawnMapAsync(Enumerable.Range(0, 500));

        var handle = MapCall.FromId<int>(spine.Client, spawned.Id);
        var outputs = await handle.GetOutputsAsync().ToListAsync();

        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), outputs.Select(o => o.Index).Order());
        Assert.All(outputs, o => Assert.Equal(o.Index * o.Index, o.Value));
        var progress = await handle.GetProgressAsync();
        Assert.True(progress.Finished);
        Assert.Equal(500, progress.Outputs);
    }

    [Fact]
    public async Task BatchedFunction_MapGathersBatchesNoLargerThanTheMaximum()
    {
        var sizes = await Functions.BatchSizes.MapAsync(Enumerable.Range(0, 40)).ToListAsync();

        Assert.Equal(40, sizes.Count);
        Assert.All(sizes, size => Assert.InRange(size, 1, MapFunctions.Batching.MaxBatchSize));
        Assert.Contains(sizes, size => size > 1); // Inputs arriving together were batched.
    }

    [Fact]
    public async Task BatchedFunction_ALoneInput_RunsAsABatchOfOneAfterTheWait()
    {
        // No second input comes: only the wait running out lets this call finish.
        Assert.Equal(1, await Functions.BatchSizes.RemoteAsync(123));
    }

    [Fact]
    public async Task MaxConcurrentInputs_AContainerRunsSeveralMapInputsAtOnce_NeverMore()
    {
        var mostAtOnce = await Functions.ConcurrencyProbe.MapAsync(Enumerable.Range(0, 16)).ToListAsync();

        Assert.InRange(mostAtOnce.Max(), 2, MapFunctions.ProbeConcurrency);
    }

    [Fact]
    public async Task TypedHandle_UpdateAutoscaler_ChangesTheBoundsAndStatsShowThem()
    {
        var stats = await Functions.Add.UpdateAutoscalerAsync(maxContainers: 3, scaledownWindow: TimeSpan.FromSeconds(30));

        Assert.Equal(3, stats.MaxContainers);
        Assert.Equal(30, stats.ScaledownWindowSeconds);
        Assert.Equal(3, (await Functions.Add.GetCurrentStatsAsync()).MaxContainers);
    }

    [Fact]
    public async Task PutInputs_ArgumentOfTheWrongType_IsRefusedNamingTheInput()
    {
        var map = await spine.Client.Maps.CreateAsync(spine.Maps, "square");

        var response = await spine.Client.Http.PostAsJsonAsync($"/v1/maps/{map.MapId}/inputs",
            new { inputs = new object[] { new { index = 0, arguments = new { x = 1 } }, new { index = 1, arguments = new { x = "seven" } } } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("inputs[1].x", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, (await spine.Client.Maps.GetAsync(map.MapId)).InputsQueued); // Nothing of the page was queued.
    }

    [Fact]
    public async Task GetOutputs_UnknownMap_Is404NamingIt()
    {
        var response = await spine.Client.Http.GetAsync("/v1/maps/fc-nothing-here/outputs");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("fc-nothing-here", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
