using System.Net;
using System.Net.Http.Json;
using Modal.Api.Contracts;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;
using Modal.Scheduler.Endpoints;

namespace Modal.Platform.Tests.Services;

/// <summary>GpuRunner → RabbitMQ → Scheduler: heartbeats make the Scheduler's one view of the nodes.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class RunnerHeartbeatTests
{
    private const string RunnerKey = "runner-key-of-this-test-install-0123456789";
    private static readonly Uri RunnersRoute = new("/v1/runners", UriKind.Relative);

    [Fact]
    public async Task Heartbeat_RunnerWithSimulatedGpus_AppearsInSchedulerRunnerList()
    {
        var runnerId = $"test-runner-{Guid.NewGuid():N}";
        await using var scheduler = new ServiceFactory<SchedulerOptions>(("Scheduler:RunnerKey", RunnerKey));
        var schedulerClient = scheduler.CreateClient();
        schedulerClient.DefaultRequestHeaders.Add(ApiHeaders.RunnerKey, RunnerKey);
        await using var runner = new ServiceFactory<GpuRunnerOptions>(
            ("GpuRunner:RunnerId", runnerId),
            ("GpuRunner:HeartbeatInterval", "00:00:00.200"),
            ("GpuRunner:SimulatedGpus:0", "H100"),
            ("GpuRunner:SimulatedGpus:1", "A100-80GB"));
        _ = runner.CreateClient();

        var runners = await Eventually.ReturnsAsync(
            () => schedulerClient.GetFromJsonAsync<List<RunnerResponse>>(RunnersRoute)!,
            list => list!.Any(r => r.RunnerId == runnerId), "the Scheduler lists the runner");

        var reported = Assert.Single(runners!, r => r.RunnerId == runnerId);
        Assert.True(reported.Alive);
        Assert.Equal(["H100", "A100-80GB"], reported.Gpus.Select(g => g.Type));
        Assert.All(reported.Gpus, gpu => Assert.True(gpu.Simulated));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-the-runner-key-of-this-install-0000")]
    public async Task ListRunners_WithoutTheRunnerKey_Returns401Problem(string? presented)
    {
        await using var scheduler = new ServiceFactory<SchedulerOptions>(("Scheduler:RunnerKey", RunnerKey));
        var client = scheduler.CreateClient();
        if (presented is not null)
        {
            client.DefaultRequestHeaders.Add(ApiHeaders.RunnerKey, presented);
        }

        using var response = await client.GetAsync(RunnersRoute);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(ApiHeaders.RunnerKey, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListRunners_SchedulerWithoutAKey_RefusesEveryone()
    {
        await using var scheduler = new ServiceFactory<SchedulerOptions>();
        var client = scheduler.CreateClient();
        client.DefaultRequestHeaders.Add(ApiHeaders.RunnerKey, "");

        using var response = await client.GetAsync(RunnersRoute);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Start_InvalidRunnerId_FailsNamingTheSetting()
    {
        await using var runner = new ServiceFactory<GpuRunnerOptions>(("GpuRunner:RunnerId", "not a valid id!"));

        var error = Assert.ThrowsAny<Exception>(() => runner.CreateClient());

        Assert.Contains("GpuRunner:RunnerId", error.ToString(), StringComparison.Ordinal);
    }
}
