using System.Net;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;
using Modal.Secrets;
using Modal.Storage;

namespace Modal.Platform.Tests.Services;

/// <summary>A service turns unhealthy while one of its stores is down and healthy again once it is back.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class StoreOutageTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public Task Storage_RedisStopped_UnhealthyThenRecovers() =>
        AssertOutageAndRecoveryAsync(new ServiceFactory<StorageOptions>(), "redis", "Redis");

    [Fact]
    public Task Secrets_PostgresStopped_UnhealthyThenRecovers() =>
        AssertOutageAndRecoveryAsync(new ServiceFactory<SecretsOptions>(TestSecretKeys.Settings()), "postgres", "DbContext");

    [Fact]
    public Task Scheduler_RabbitMqStopped_UnhealthyThenRecovers() =>
        AssertOutageAndRecoveryAsync(new ServiceFactory<SchedulerOptions>(), "rabbitmq", "masstransit");

    [Fact]
    public Task GpuRunner_RabbitMqStopped_HeartbeatUnhealthyThenRecovers() =>
        AssertOutageAndRecoveryAsync(
            new ServiceFactory<GpuRunnerOptions>(
                ("GpuRunner:RunnerId", $"outage-{Guid.NewGuid():N}"), ("GpuRunner:HeartbeatInterval", "00:00:00.500")),
            "rabbitmq", "heartbeat");

    private async Task AssertOutageAndRecoveryAsync<T>(ServiceFactory<T> service, string server, string check) where T : class
    {
        await using (service)
        {
            var client = service.CreateClient();
            await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(client), r => r.Status == "Healthy", $"healthy before {server} stops");

            await infrastructure.StopServerAsync(server);
            HealthReport down;
            try
            {
                down = await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(client),
                    r => r.CheckStatus(check) != "Healthy", $"the {check} check notices {server} is down");
            }
            finally
            {
                await infrastructure.StartServerAsync(server);
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            var up = await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(client),
                r => r.Status == "Healthy", $"healthy again after {server} restarts", TimeSpan.FromMinutes(2));
            Assert.Equal(HttpStatusCode.OK, up.StatusCode);
        }
    }
}
