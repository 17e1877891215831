using Microsoft.Extensions.DependencyInjection;
using Modal.Contracts.Calls;
using Modal.Contracts.Containers;
using Modal.Contracts.Schedules;
using Modal.Deployment;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;
using Modal.Scheduler.Autoscaling;
using Modal.Scheduler.Leadership;
using Npgsql;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Two Schedulers on one bus and one database, with the Api, Storage and one runner, and examples/Autoscaling deployed:
/// only the leader places containers, so no function gets two where it wants one; when the leader (a process of its
/// own) is killed outright, the other takes the lease over and scales in its place.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class TwoSchedulersTests(InfrastructureFixture infrastructure) : IAsyncLifetime
{
    private const string RunnerId = "two-schedulers";

    private static readonly (string, string)[] SchedulerSettings =
    [
        ("Scheduler:ScalingInterval", "00:00:00.250"),
        ("Scheduler:RunnerTimeout", "00:00:03"),
        ("Scheduler:LeaseDuration", "00:00:03"),
        ("Scheduler:LeaseRenewInterval", "00:00:00.500"),
    ];

    // Properties, as in the other fixtures: the services are disposed in DisposeAsync, in order.
    private PlatformServices Platform { get; } = new("modal-two-");
    private ServiceFactory<SchedulerOptions>? Follower { get; set; }
    private ServiceProcess? Leader { get; set; }
    private BusEventRecorder? Events { get; set; }
    private ModalClient Client => Platform.Client;
    private DeploymentResult? _deployment;

    public async Task InitializeAsync()
    {
        Events = await BusEventRecorder.StartAsync<ContainerStarted, ContainerStopped>(infrastructure.RabbitMqConnectionString);
        Platform.Start();
        Platform.StartRunner(RunnerId, ("GpuRunner:HeartbeatInterval", "00:00:00.250"));
    }

    public async Task DisposeAsync()
    {
        if (_deployment is not null)
        {
            // Stopped, so no later test's Scheduler keeps a warm container of it; the runner goes once its containers have.
            await Client.Apps.StopAsync(_deployment.App.Name);
            var started = Events!.Events.OfType<ContainerStarted>().Select(e => e.ContainerId).ToList();
            await Eventually.ReturnsAsync(() => Task.FromResult(Events.Events.OfType<ContainerStopped>().Select(e => e.ContainerId).ToHashSet()),
                stopped => started.All(stopped.Contains), "the app's containers stop", TimeSpan.FromSeconds(30));
        }
        Leader?.Kill();
        // The Follower is this test's own, not the platform's: it goes before the runner, as it always has.
        foreach (var service in new IAsyncDisposable?[] { Follower, Platform, Events, Leader })
        {
            if (service is not null)
            {
                await service.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task LeaderKilled_TheFollowerTakesOver_AndNoFunctionEverGetsTwoContainersForOne()
    {
        // The first Scheduler runs alone as a process of its own, so it takes the lease (once a killed Scheduler's of an
        // earlier test has lapsed) and can be killed outright below.
        var before = await LiveHolderAsync();
        Leader = await ServiceProcess.StartAsync("Scheduler", SchedulerSettings);
        var leaderId = await Eventually.ReturnsAsync(LiveHolderAsync, holder => holder is not null && holder != before,
            "the Scheduler process takes the lease");
        Follower = new ServiceFactory<SchedulerOptions>(SchedulerSettings);
        _ = Follower.CreateClient();
        var followerLease = Follower.Services.GetRequiredService<LeaderLease>();
        await Eventually.ReturnsAsync(() => Task.FromResult(followerLease.LastKnownLeader), holder => holder is not null,
            "the second Scheduler has asked for the lease");
        Assert.Equal(leaderId, followerLease.LastKnownLeader);
        Assert.False(followerLease.IsLeader);

        _deployment = await AppDeployer.DeployAsync(Client, Examples.OutputDirectory("Autoscaling"), "Autoscaling.dll");
        var warm = FunctionId("warm");
        var burst = FunctionId("burst");
        var warmContainer = await Eventually.ReturnsAsync(() => Task.FromResult(Started(warm)), s => s.Length > 0, "the warm container starts");
        await Task.Delay(TimeSpan.FromSeconds(3)); // A dozen scaling rounds of each Scheduler.
        // MinContainers = 1: one container, not one per Scheduler.
        Assert.True(Started(warm).Length == 1, $"warm containers started: {string.Join(", ", Started(warm).Select(s => s.ContainerId))}; "
            + $"the follower tracks {string.Join(", ", Follower.Services.GetRequiredService<ScalingState>().Containers().Select(c => $"{c.ContainerId} ({c.State})"))}");
        // The follower knows the leader's container from the runner's heartbeats, as it must to take over.
        await Eventually.ReturnsAsync(() => Task.FromResult(Follower.Services.GetRequiredService<ScalingState>().Containers()),
            containers => containers.Any(c => c.ContainerId == warmContainer[0].ContainerId), "the follower tracks the warm container");

        // A schedule registered by the leader, fired by the Quartz cluster the two Schedulers form.
        await using var ticks = await BusEventRecorder.StartAsync<ScheduleFired, FunctionCallQueued>(infrastructure.RabbitMqConnectionString);
        var heartbeat = (await DeployTicksAsync(periodSeconds: 1)).Functions.Single(f => f.Name == "heartbeat").Id;
        await Eventually.ReturnsAsync(() => Task.FromResult(Fired(ticks, heartbeat)), fired => fired.Count >= 2, "the leader's schedule fires");

        Leader.Kill();

        await Eventually.ReturnsAsync(() => Task.FromResult(followerLease.IsLeader), leading => leading, "the follower takes the lease over");
        // A function with no container gets one from the new leader.
        Assert.Empty(Started(burst));
        var answered = await Function.FromName(Client, _deployment.App.Name, "burst").RemoteAsync<int>(new { milliseconds = 10 });
        Assert.NotEqual(0, answered);
        Assert.Single(Started(burst));
        // The new leader adopted the warm container rather than starting another.
        Assert.Single(Started(warm));
        Assert.Empty(Stopped(warm));

        // The new leader registers schedules: a redeploy (a new version) replaces the period, and the new one fires.
        var redeployedAt = DateTimeOffset.UtcNow;
        await DeployTicksAsync(periodSeconds: 2);
        var listed = await Eventually.ReturnsAsync(() => Client.Apps.ListSchedulesAsync(TicksApp),
            s => s.Functions.Count == 1 && s.Functions[0].NextFireTimes.Count > 0 && s.Functions[0].Schedule == "every 2s",
            "the new leader registered the redeployed schedule");
        // From the new schedule's next tick on (the old one's ticks may still fire until the new leader replaces it).
        var firstNew = listed.Functions[0].NextFireTimes[0];
        var after = await Eventually.ReturnsAsync(
            () => Task.FromResult(Fired(ticks, heartbeat).Where(f => f.ScheduledAt >= firstNew).Select(f => f.ScheduledAt).Distinct().Order().ToList()),
            fired => fired.Count >= 2, "the redeployed schedule fires");
        await Client.Apps.StopAsync(TicksApp);
        Assert.Equal(TimeSpan.FromSeconds(2), after[1] - after[0]);
        Assert.All(listed.Functions[0].NextFireTimes, next => Assert.True(next > redeployedAt));
    }

    private const string TicksApp = "two-schedulers-ticks";

    // examples/Scheduled's heartbeat alone, on the given period, as app TicksApp (the example's own deploy uploads the bundle).
    private async Task<Modal.Api.Contracts.Apps.DeployedAppInfo> DeployTicksAsync(double periodSeconds)
    {
        _scheduled ??= await AppDeployer.DeployAsync(Client, Examples.OutputDirectory("Scheduled"), "Scheduled.dll");
        if (_scheduled.App.State != "Stopped")
        {
            _scheduled = _scheduled with { App = await Client.Apps.StopAsync(_scheduled.App.Name) };
        }
        var heartbeat = _scheduled.Manifest!.Functions.Single(f => f.Name == "heartbeat")
            with { Schedule = new Modal.Api.Contracts.Schedules.ScheduleManifest(PeriodSeconds: periodSeconds) };
        return await Client.Apps.DeployAsync(TicksApp, new Modal.Api.Contracts.Apps.DeployAppRequest([heartbeat], _scheduled.Bundle.Id));
    }

    private DeploymentResult? _scheduled;

    private static List<ScheduleFired> Fired(BusEventRecorder ticks, Guid functionId) =>
        ticks.Events.OfType<ScheduleFired>().Where(f => f.FunctionId == functionId).ToList();

    private Guid FunctionId(string name) => _deployment!.App.Functions.Single(f => f.Name == name).Id;

    private ContainerStarted[] Started(Guid functionId) =>
        Events!.Events.OfType<ContainerStarted>().Where(e => e.FunctionId == functionId).ToArray();

    private ContainerStopped[] Stopped(Guid functionId) =>
        Events!.Events.OfType<ContainerStopped>().Where(e => e.FunctionId == functionId).ToArray();

    /// <summary>Who holds the Schedulers' lease now, by the database's clock; null when nobody does.</summary>
    private async Task<string?> LiveHolderAsync()
    {
        await using var connection = new NpgsqlConnection(infrastructure.DatabaseConnectionString("modal_scheduler", "modal_scheduler"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT holder FROM leases WHERE name = @name AND expires_at > now()", connection);
        command.Parameters.AddWithValue("name", LeaderLease.SchedulerLeaseName);
        try
        {
            return await command.ExecuteScalarAsync() as string;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null; // No Scheduler has migrated this run's database yet.
        }
    }
}
