using System.Collections.Concurrent;
using MassTransit;
using Modal.Contracts.Apps;
using Modal.Contracts.Containers;
using Modal.Contracts.Runners;
using Modal.Contracts.Web;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// The real Scheduler on the real broker, a stand-in runner (heartbeats, and a queue that records the container
/// commands it is sent) and a stand-in ingress (<see cref="WebEndpointDemand"/> reports): a server function scales on
/// demand.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class WebScalingTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task WebEndpointDemand_WaitingRequestForColdServer_StartsAContainerWithoutWaitingForTheTick()
    {
        // A tick a minute away: only the demand report's wake-up can start the container within the wait below.
        await using var scheduler = new ServiceFactory<SchedulerOptions>(
            ("Scheduler:ScalingInterval", "00:01:00"), ("Scheduler:RunnerTimeout", "00:00:30"));
        var health = scheduler.CreateClient();
        var runnerId = $"web-scale-{Guid.NewGuid():N}"[..22];
        var starts = new ConcurrentQueue<StartContainer>();
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(new Uri(infrastructure.RabbitMqConnectionString));
            rabbit.ReceiveEndpoint(RunnerQueues.ContainersOf(runnerId), endpoint =>
            {
                // Declared as a runner declares its own: temporary.
                endpoint.AutoDelete = true;
                endpoint.Durable = false;
                endpoint.Handler<StartContainer>(context =>
                {
                    starts.Enqueue(context.Message);
                    return Task.CompletedTask;
                });
            });
        });
        await bus.StartAsync();
        try
        {
            await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(health),
                report => report.CheckStatus("masstransit") == "Healthy", "the Scheduler's bus is up", TimeSpan.FromSeconds(60));
            var server = new DeployedFunctionSpec
            {
                FunctionId = Guid.NewGuid(), Name = "site", MaxConcurrentInputs = 8, Timeout = TimeSpan.FromMinutes(1),
                Web = new WebEndpointSpec { Kind = "AspNetApp" },
            };
            var plain = new DeployedFunctionSpec
            {
                FunctionId = Guid.NewGuid(), Name = "plain", MaxConcurrentInputs = 1, Timeout = TimeSpan.FromMinutes(1),
            };
            await bus.Publish(Heartbeat(runnerId));
            await bus.Publish(new AppDeployed
            {
                WorkspaceId = Guid.NewGuid(), AppId = Guid.NewGuid(), AppName = "web-scale", BundleId = "bundle",
                Functions = [server, plain], DeployedAt = DateTimeOffset.UtcNow,
            });
            // Nothing to do yet: no minimum, no demand.
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Empty(starts);

            // As an ingress does: reports every half second while a request waits. Demand for a plain function is ignored.
            using var reporting = new CancellationTokenSource();
            var ingress = Task.Run(async () =>
            {
                while (!reporting.IsCancellationRequested)
                {
                    await bus.Publish(Heartbeat(runnerId));
                    foreach (var functionId in new[] { server.FunctionId, plain.FunctionId })
                    {
                        await bus.Publish(new WebEndpointDemand
                        {
                            IngressId = "test-ingress", FunctionId = functionId, InFlight = 0, Waiting = 1, ReportedAt = DateTimeOffset.UtcNow,
                        });
                    }
                    await Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None);
                }
            });
            var start = await Eventually.ReturnsAsync(() => Task.FromResult(starts.ToArray()), seen => seen.Length > 0,
                "the Scheduler starts a container for the server", TimeSpan.FromSeconds(20));
            await Task.Delay(TimeSpan.FromSeconds(1));
            await reporting.CancelAsync();
            await ingress;

            var started = Assert.Single(starts);
            Assert.Equal(server.FunctionId, started.FunctionId);
            Assert.Equal(runnerId, started.RunnerId);
            Assert.NotEmpty(start);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    private static RunnerCapacityReported Heartbeat(string runnerId) => new()
    {
        RunnerId = runnerId, Gpus = [], CpuCores = 4, MemoryMiB = 8192, ReportedAt = DateTimeOffset.UtcNow,
    };
}
