using System.Net;
using Modal.Platform.Tests.Infrastructure;
using Modal.Secrets;
using Modal.Storage;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// A service turns unhealthy while one of its stores is down and healthy again once it is back. The broker's outages are
/// <see cref="BrokerOutageTests"/>, on brokers of their own: the shared one stays up under the other tests.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class StoreOutageTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public Task Storage_RedisStopped_UnhealthyThenRecovers() =>
        AssertOutageAndRecoveryAsync(new ServiceFactory<StorageOptions>(), "redis", "Redis");

    [Fact]
    public Task Secrets_PostgresStopped_UnhealthyThenRecovers() =>
        AssertOutageAndRecoveryAsync(new ServiceFactory<SecretsOptions>(TestSecretKeys.Settings()), "postgres", "DbContext");

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
