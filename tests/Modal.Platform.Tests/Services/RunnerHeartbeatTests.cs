using System.Net.Http.Json;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;
using Modal.Scheduler.Endpoints;

namespace Modal.Platform.Tests.Services;

/// <summary>GpuRunner → RabbitMQ → Scheduler: heartbeats make the Scheduler's one view of the nodes.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class RunnerHeartbeatTests
{
    [Fact]
    public async Task Heartbeat_RunnerWithSimulatedGpus_AppearsInSchedulerRunnerList()
    {
        var runnerId = $"test-runner-{Guid.NewGuid():N}";
        await using var scheduler = new ServiceFactory<SchedulerOptions>();
        var schedulerClient = scheduler.CreateClient();
        await using var runner = new ServiceFactory<GpuRunnerOptions>(
            ("GpuRunner:RunnerId", runnerId),
            ("GpuRunner:HeartbeatInterval", "00:00:00.200"),
            ("GpuRunner:SimulatedGpus:0", "H100"),
            ("GpuRunner:SimulatedGpus:1", "A100-80GB"));
        _ = runner.CreateClient();

        var runners = await Eventually.ReturnsAsync(
            () => schedulerClient.GetFromJsonAsync<List<RunnerResponse>>(new Uri("/v1/runners", UriKind.Relative))!,
            list => list!.Any(r => r.RunnerId == runnerId), "the Scheduler lists the runner");

        var reported = Assert.Single(runners!, r => r.RunnerId == runnerId);
        Assert.True(reported.Alive);
        Assert.Equal(["H100", "A100-80GB"], reported.Gpus.Select(g => g.Type));
        Assert.All(reported.Gpus, gpu => Assert.True(gpu.Simulated));
    }

    [Fact]
    public async Task Start_InvalidRunnerId_FailsNamingTheSetting()
    {
        await using var runner = new ServiceFactory<GpuRunnerOptions>(("GpuRunner:RunnerId", "not a valid id!"));

        var error = Assert.ThrowsAny<Exception>(() => runner.CreateClient());

        Assert.Contains("GpuRunner:RunnerId", error.ToString(), StringComparison.Ordinal);
    }
}
