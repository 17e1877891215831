using System.Net;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// A service turns unhealthy while its broker is down and healthy again once the broker is back. Each test stops a
/// broker of its own (<see cref="BrokerContainer"/>), never the run's shared one.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class BrokerOutageTests
{
    [Fact]
    public Task Scheduler_BrokerStopped_UnhealthyThenRecovers() =>
        AssertOutageAndRecoveryAsync(
            broker => new ServiceFactory<SchedulerOptions>(("ConnectionStrings:rabbitmq", broker.ConnectionString)),
            broker => broker.StopAsync(), "masstransit");

    [Fact]
    public Task GpuRunner_BrokerKilled_HeartbeatUnhealthyThenRecovers() =>
        AssertOutageAndRecoveryAsync(
            broker => new ServiceFactory<GpuRunnerOptions>(
                ("ConnectionStrings:rabbitmq", broker.ConnectionString),
                ("GpuRunner:RunnerId", $"outage-{Guid.NewGuid():N}"), ("GpuRunner:HeartbeatInterval", "00:00:00.500")),
            broker => broker.KillAsync(), "heartbeat");

    private static async Task AssertOutageAndRecoveryAsync<T>(
        Func<BrokerContainer, ServiceFactory<T>> startService, Func<BrokerContainer, Task> takeDown, string check) where T : class
    {
        await using var broker = await BrokerContainer.StartAsync();
        await using var service = startService(broker);
        var client = service.CreateClient();
        await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(client), r => r.Status == "Healthy", "healthy before the broker goes down");

        await takeDown(broker);
        HealthReport down;
        try
        {
            down = await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(client),
                r => r.CheckStatus(check) != "Healthy", $"the {check} check notices the broker is down");
        }
        finally
        {
            await broker.StartAgainAsync();
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        var up = await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(client),
            r => r.Status == "Healthy", "healthy again after the broker restarts", TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.OK, up.StatusCode);
    }
}
