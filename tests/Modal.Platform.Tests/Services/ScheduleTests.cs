using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Modal.Api;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Calls;
using Modal.Api.Contracts.Schedules;
using Modal.Contracts.Calls;
using Modal.Contracts.Schedules;
using Modal.Deployment;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;
using Modal.Scheduler;
using Modal.Storage;
using Xunit.Abstractions;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Storage, Api, a runner and the Scheduler (Quartz on the real PostgreSQL) with examples/Scheduled's bundle uploaded:
/// each test deploys the example's functions under an app of its own, with the schedules the test needs.
/// </summary>
public sealed class ScheduleFixture : IAsyncLifetime
{
    // A property, not a field, so CA1001 does not ask for IDisposable: IAsyncLifetime.DisposeAsync disposes it.
    private PlatformServices Platform { get; } = new("modal-sched-");

    public ModalClient Client => Platform.Client;
    public HttpClient ApiHttp => Platform.ApiHttp;
    internal BusEventRecorder Events { get; private set; } = null!;

    /// <summary>The example's functions as its program describes them.</summary>
    public IReadOnlyList<FunctionManifest> Functions { get; private set; } = [];

    /// <summary>The example's uploaded bundle.</summary>
    public string BundleId { get; private set; } = "";

    /// <summary>Settings a second Scheduler needs to join the first one's cluster with the same timings.</summary>
    public static readonly (string, string)[] SchedulerSettings =
    [
        ("Scheduler:ScalingInterval", "00:00:00.250"),
        ("Scheduler:ScheduleSyncInterval", "00:00:02"),
        ("Scheduler:ClusterCheckinInterval", "00:00:01"),
    ];

    public async Task InitializeAsync()
    {
        Events = await BusEventRecorder.StartAsync<ScheduleFired, FunctionCallStarted>(Environment.GetEnvironmentVariable("ConnectionStrings__rabbitmq")!);
        Platform.Start();

        Platform.StartScheduler(SchedulerSettings);
        Platform.StartRunner($"sched-{Guid.NewGuid():N}"[..16]);

        // The example as `modal deploy` registers it; the tests then deploy its functions under apps of their own.
        var deployed = await AppDeployer.DeployAsync(Client, Examples.OutputDirectory("Scheduled"), "Scheduled.dll");
        Functions = deployed.Manifest!.Functions;
        BundleId = deployed.Bundle.Id;
        await Client.Apps.StopAsync(deployed.App.Name);
    }

    /// <summary>Deploys the example's functions as app <paramref name="name"/>, each function's schedule set by <paramref name="schedules"/> (absent: none).</summary>
    public Task<DeployedAppInfo> DeployAsync(string name, IReadOnlyDictionary<string, ScheduleManifest> schedules, bool ephemeral = false)
    {
        var functions = Functions.Select(f => f with { Schedule = schedules.GetValueOrDefault(f.Name) }).ToList();
        return ephemeral
            ? Client.Apps.CreateEphemeralAsync(new CreateAppRequest(name, functions, BundleId))
            : Client.Apps.DeployAsync(name, new DeployAppRequest(functions, BundleId));
    }

    /// <summary>The firings of <paramref name="functionId"/> heard on the bus so far.</summary>
    internal List<ScheduleFired> FiringsOf(Guid functionId) =>
        Events.Events.OfType<ScheduleFired>().Where(f => f.FunctionId == functionId).ToList();

    public async Task DisposeAsync()
    {
        await Events.DisposeAsync();
        await Platform.DisposeAsync();
    }
}

[Collection(InfrastructureTestGroup.Name)]
public sealed class ScheduleTests(ScheduleFixture fixture, ITestOutputHelper output) : IClassFixture<ScheduleFixture>
{
    private static ScheduleManifest Every(double seconds) => new(PeriodSeconds: seconds);

    private static string NewAppName() => $"sched-{Guid.NewGuid():N}"[..18];

    private static Guid IdOf(DeployedAppInfo app, string function) => app.Functions.Single(f => f.Name == function).Id;

    // A firing is heard on the bus a moment before the Api has made its call.
    private async Task<CallInfo?> CallAsync(string callId)
    {
        try
        {
            return await fixture.Client.Apps.GetCallAsync(callId);
        }
        catch (Refit.ApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    [Fact]
    public async Task Period_TwoSeconds_FiresRepeatedlyEachFiringACallInAContainerWithItsOwnIdAndLogs()
    {
        var app = await fixture.DeployAsync(NewAppName(), new Dictionary<string, ScheduleManifest> { ["heartbeat"] = Every(2) });
        var heartbeat = IdOf(app, "heartbeat");

        var firings = await Eventually.ReturnsAsync(() => Task.FromResult(fixture.FiringsOf(heartbeat)), f => f.Count >= 3, "the 2 s period fired three times");

        Assert.Equal("every 2s", app.Functions.Single(f => f.Name == "heartbeat").Schedule);
        Assert.Equal(firings.Count, firings.Select(f => f.FunctionCallId).Distinct().Count());
        var ticks = firings.Select(f => f.ScheduledAt).Order().ToList();
        Assert.All(ticks.Zip(ticks.Skip(1)), pair => Assert.Equal(TimeSpan.FromSeconds(2), pair.Second - pair.First));
        foreach (var firing in firings.Take(3))
        {
            var call = await Eventually.ReturnsAsync(() => CallAsync(firing.FunctionCallId), c => c?.IsFinished == true,
                $"call {firing.FunctionCallId} finished");
            Assert.NotNull(call);
            Assert.Equal("Succeeded", call.State);
            Assert.Equal(CallOrigins.Schedule, call.Origin);
            var logs = await Eventually.ReturnsAsync(() => fixture.Client.Apps.GetCallLogsAsync(firing.FunctionCallId), l => l.Lines.Count > 0,
                $"call {firing.FunctionCallId} has its log");
            Assert.Contains(logs.Lines, line => line.Text.StartsWith("heartbeat at ", StringComparison.Ordinal));
        }
        // Each firing ran in a container: the runner reported each call starting.
        Assert.All(firings.Take(3), firing => Assert.Contains(fixture.Events.Events.OfType<FunctionCallStarted>(), s => s.FunctionCallId == firing.FunctionCallId));

        var schedules = await fixture.Client.Apps.ListSchedulesAsync(app.Name);
        var listed = Assert.Single(schedules.Functions);
        Assert.Equal("heartbeat", listed.Function);
        Assert.NotEmpty(listed.NextFireTimes);
        Assert.All(listed.NextFireTimes.Zip(listed.NextFireTimes.Skip(1)), pair => Assert.Equal(TimeSpan.FromSeconds(2), pair.Second - pair.First));
        // Newest first, each one a firing heard on the bus, the calls of the checked ones done.
        await fixture.Client.Apps.StopAsync(app.Name);
        Assert.Equal(listed.LastFirings.OrderByDescending(f => f.ScheduledAt), listed.LastFirings);
        Assert.All(listed.LastFirings, f => Assert.Contains(fixture.FiringsOf(heartbeat), heard => heard.FunctionCallId == f.FunctionCallId));
        Assert.Contains(listed.LastFirings, f => f.State == "Succeeded");
    }

    [Fact]
    public async Task TwoSchedulers_EachTickFiresOnceAndWhenOneIsKilledTheOtherCarriesOn()
    {
        // A second Scheduler, a process of its own (so it can die as a machine would), in the first one's Quartz cluster.
        await using var second = await ServiceProcess.StartAsync("Scheduler", ScheduleFixture.SchedulerSettings);
        var app = await fixture.DeployAsync(NewAppName(), new Dictionary<string, ScheduleManifest> { ["heartbeat"] = Every(1) });
        var heartbeat = IdOf(app, "heartbeat");

        var together = await Eventually.ReturnsAsync(() => Task.FromResult(fixture.FiringsOf(heartbeat)), f => f.Count >= 12,
            "twelve ticks fired with both Schedulers running");
        second.Kill();
        var killedAt = DateTimeOffset.UtcNow;
        var after = await Eventually.ReturnsAsync(() => Task.FromResult(fixture.FiringsOf(heartbeat).Where(f => f.FiredAt > killedAt).ToList()),
            f => f.Select(x => x.ScheduledAt).Distinct().Count() >= 5, "five more ticks fired after one Scheduler was killed", TimeSpan.FromSeconds(60));
        await fixture.Client.Apps.StopAsync(app.Name);

        // Both running: every tick once, none missing.
        var ticks = together.Select(f => f.ScheduledAt).Order().ToList();
        Assert.Equal(ticks.Count, ticks.Distinct().Count());
        Assert.All(ticks.Zip(ticks.Skip(1)), pair => Assert.Equal(TimeSpan.FromSeconds(1), pair.Second - pair.First));
        // After the kill the survivor fires; a tick the dead one was firing may fire again, but it still makes one call.
        var survivor = after.Select(f => f.SchedulerInstance).Distinct().ToList();
        Assert.Single(survivor);
        Assert.Equal(after.Select(f => f.ScheduledAt).Distinct().Count(), after.Select(f => f.FunctionCallId).Distinct().Count());
        var lastTick = after.Max(f => f.ScheduledAt);
        Assert.True(lastTick > ticks[^1], "the ticks went on after the kill");
        // The survivor took over within the misfire threshold, so no tick was lost: late ones fired for their own instant.
        var all = fixture.FiringsOf(heartbeat).Select(f => f.ScheduledAt).Where(t => t <= lastTick).Distinct().Order().ToList();
        Assert.All(all.Zip(all.Skip(1)), pair => Assert.Equal(TimeSpan.FromSeconds(1), pair.Second - pair.First));
        output.WriteLine($"fired by instance, both running: {string.Join(", ", together.GroupBy(f => f.SchedulerInstance).Select(g => $"{g.Key} {g.Count()}"))}; " +
            $"after the kill: {string.Join(", ", after.GroupBy(f => f.SchedulerInstance).Select(g => $"{g.Key} {g.Count()}"))}, " +
            $"latest lateness {after.Max(f => (f.FiredAt - f.ScheduledAt).TotalMilliseconds):0} ms");
    }

    [Fact]
    public async Task Cron_WeekdaysAtNineInParis_NextFireTimesAreWeekdayMorningsThereAcrossDaylightSaving()
    {
        var app = await fixture.DeployAsync(NewAppName(),
            new Dictionary<string, ScheduleManifest> { ["weekday_digest"] = new(Cron: "0 9 * * 1-5", TimeZone: "Europe/Paris") });

        var listed = await Eventually.ReturnsAsync(() => fixture.Client.Apps.ListSchedulesAsync(app.Name),
            s => s.Functions.Count == 1 && s.Functions[0].NextFireTimes.Count == 5, "the cron was registered");

        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        Assert.Equal("cron \"0 9 * * 1-5\" (Europe/Paris)", listed.Functions[0].Schedule);
        Assert.All(listed.Functions[0].NextFireTimes, at =>
        {
            var local = TimeZoneInfo.ConvertTime(at, paris);
            Assert.Equal(new TimeOnly(9, 0), TimeOnly.FromDateTime(local.DateTime));
            Assert.InRange(local.DayOfWeek, DayOfWeek.Monday, DayOfWeek.Friday);
        });
    }

    [Fact]
    public async Task Cron_EverySecondInQuartzForm_FiresCallsThatRun()
    {
        var app = await fixture.DeployAsync(NewAppName(), new Dictionary<string, ScheduleManifest> { ["nightly_cleanup"] = new(Cron: "* * * * * ?") });
        var cleanup = IdOf(app, "nightly_cleanup");

        var firings = await Eventually.ReturnsAsync(() => Task.FromResult(fixture.FiringsOf(cleanup)), f => f.Count >= 2, "the every-second cron fired twice");
        var call = await Eventually.ReturnsAsync(() => CallAsync(firings[0].FunctionCallId), c => c?.IsFinished == true, "the first firing's call finished");
        await fixture.Client.Apps.StopAsync(app.Name);

        Assert.All(firings, f => Assert.Equal(0, f.ScheduledAt.Millisecond));
        Assert.Equal("Succeeded", call?.State);
    }

    [Fact]
    public async Task Redeploy_WithANewSchedule_ReplacesTheOldOne()
    {
        var name = NewAppName();
        var first = await fixture.DeployAsync(name, new Dictionary<string, ScheduleManifest> { ["heartbeat"] = Every(1) });
        var heartbeat = IdOf(first, "heartbeat");
        await Eventually.ReturnsAsync(() => Task.FromResult(fixture.FiringsOf(heartbeat)), f => f.Count >= 1, "the first schedule fired");

        var second = await fixture.DeployAsync(name, new Dictionary<string, ScheduleManifest> { ["heartbeat"] = new(Cron: "0 3 * * *") });

        Assert.Equal(heartbeat, IdOf(second, "heartbeat")); // Same function, same queue: only its schedule changed.
        var listed = await Eventually.ReturnsAsync(() => fixture.Client.Apps.ListSchedulesAsync(name),
            s => s.Functions.Count == 1 && s.Functions[0].NextFireTimes.Count > 0, "the new schedule was registered");
        Assert.Equal("cron \"0 3 * * *\" (UTC)", listed.Functions[0].Schedule);
        Assert.All(listed.Functions[0].NextFireTimes, at => Assert.Equal(new TimeSpan(3, 0, 0), at.UtcDateTime.TimeOfDay));
        // The period is gone: after a firing already on its way, nothing more (the cron fires at 03:00 only).
        var settled = fixture.FiringsOf(heartbeat).Count;
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.InRange(fixture.FiringsOf(heartbeat).Count, settled, settled + 1);
        await fixture.Client.Apps.StopAsync(name);
    }

    [Fact]
    public async Task StopApp_RemovesItsSchedules()
    {
        var name = NewAppName();
        var app = await fixture.DeployAsync(name, new Dictionary<string, ScheduleManifest> { ["heartbeat"] = Every(1) });
        var heartbeat = IdOf(app, "heartbeat");
        await Eventually.ReturnsAsync(() => Task.FromResult(fixture.FiringsOf(heartbeat)), f => f.Count >= 1, "the schedule fired");

        await fixture.Client.Apps.StopAsync(name);

        // Let a firing already on its way land, then nothing more comes.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var settled = fixture.FiringsOf(heartbeat).Count;
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(settled, fixture.FiringsOf(heartbeat).Count);
    }

    [Fact]
    public async Task ModalRun_EphemeralApp_SchedulesNothing()
    {
        var app = await fixture.DeployAsync("sched-run", new Dictionary<string, ScheduleManifest> { ["heartbeat"] = Every(1) }, ephemeral: true);

        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.Empty(fixture.FiringsOf(IdOf(app, "heartbeat")));
        Assert.Null(app.Functions.Single(f => f.Name == "heartbeat").Schedule);
        Assert.Empty((await fixture.Client.Apps.ListSchedulesAsync(app.Id)).Functions);
        await fixture.Client.Apps.StopAsync(app.Id);
    }

    [Theory]
    [InlineData("heartbeat", "61 * * * *", null, 0, "is invalid")]
    [InlineData("heartbeat", "0 0 31 2 *", null, 0, "never fires")]
    [InlineData("heartbeat", "0 9 * * *", "Mars/Olympus_Mons", 0, "time zone 'Mars/Olympus_Mons' is unknown")]
    [InlineData("heartbeat", null, null, 0.5, "at least 1 second")]
    [InlineData("produce_nothing_with", null, null, 5, "takes no arguments")]
    public async Task Deploy_InvalidSchedule_IsRefusedNamingTheFunctionAndNothingChanges(
        string function, string? cron, string? timeZone, double periodSeconds, string problem)
    {
        var name = NewAppName();
        var before = await fixture.DeployAsync(name, new Dictionary<string, ScheduleManifest>());
        var functions = fixture.Functions.Select(f => f.Name == "heartbeat" && function == "produce_nothing_with"
                ? f with { Parameters = [new ParameterManifest("count", "System.Int32")] }
                : f).ToList();
        var schedule = new ScheduleManifest(cron, timeZone, PeriodSeconds: periodSeconds);
        functions = functions.Select(f => f.Name == "heartbeat" ? f with { Schedule = schedule } : f).ToList();

        using var response = await fixture.ApiHttp.PutAsJsonAsync($"/v1/apps/{name}", new DeployAppRequest(functions, fixture.BundleId));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("heartbeat: ", body, StringComparison.Ordinal);
        Assert.Contains(problem, body, StringComparison.Ordinal);
        var after = await fixture.Client.Apps.GetAsync(name);
        Assert.Equal(before.Version, after.Version);
        Assert.All(after.Functions, f => Assert.Null(f.Schedule));
        await fixture.Client.Apps.StopAsync(name);
    }
}
