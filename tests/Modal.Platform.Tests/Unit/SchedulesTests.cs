using Modal.Api.Contracts.Schedules;
using Modal.Api.Schedules;
using Modal.Contracts.Schedules;
using Modal.Scheduler.Schedules;
using Quartz;

namespace Modal.Platform.Tests.Unit;

/// <summary>A schedule from the SDK's options through the Api's checks to the Quartz trigger the Scheduler registers.</summary>
public sealed class SchedulesTests
{
    private static readonly DateTimeOffset DeployedAt = new(2026, 12, 7, 10, 15, 30, 250, TimeSpan.Zero);

    [Fact]
    public void Validate_PeriodUnderOneSecond_NamesTheSchedule()
    {
        var error = Assert.Throws<InvalidFunctionOptionsException>(() => new FunctionOptions { Schedule = new Period(seconds: 0.5) }.Validate());

        Assert.Equal(nameof(FunctionOptions.Schedule), error.Option);
    }

    [Fact]
    public void Validate_MonthsWithDays_IsRefused() =>
        Assert.Throws<InvalidFunctionOptionsException>(() => new Period(months: 1, days: 2).Validate());

    [Fact]
    public void Function_WithParametersAndASchedule_IsRefusedWhenDefined()
    {
        var app = new App("schedules-unit");

        var error = Assert.Throws<InvalidFunctionOptionsException>(() =>
            app.Function("f", (int x) => x, new FunctionOptions { Schedule = new Period(minutes: 5) }));

        Assert.Contains("takes no arguments", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Manifest_Period_CarriesMonthsAndSecondsApart()
    {
        Assert.Equal(new ScheduleManifest(PeriodMonths: 14), ((Schedule)new Period(years: 1, months: 2)).ToManifest());
        Assert.Equal(new ScheduleManifest(PeriodSeconds: 90061), ((Schedule)new Period(days: 1, hours: 1, minutes: 1, seconds: 1)).ToManifest());
    }

    [Theory]
    [InlineData("0 9 * * 1-5", "0 0 9 ? * MON-FRI")]
    [InlineData("5 4 * * 7", "0 5 4 ? * SUN")]
    [InlineData("*/15 * * * *", "0 */15 * * * ?")]
    [InlineData("@daily", "0 0 0 * * ?")]
    [InlineData("*/5 * * * * ?", "*/5 * * * * ?")]
    public void ToSpec_Cron_IsReadAsUnixCrontabOrQuartzFormByItsFields(string cron, string quartz)
    {
        var (spec, error) = FunctionSchedules.ToSpec(new ScheduleManifest(Cron: cron));

        Assert.Null(error);
        Assert.Equal(quartz, spec!.QuartzCron);
        Assert.Equal("UTC", spec.TimeZone);
    }

    [Theory]
    [InlineData("61 * * * *", null, "is invalid")]
    [InlineData("0 0 31 2 *", null, "never fires")]
    [InlineData("0 9 * *", null, "is invalid")]
    [InlineData("0 9 * * *", "Mars/Olympus_Mons", "time zone 'Mars/Olympus_Mons' is unknown")]
    public void ToSpec_BadCron_SaysWhat(string cron, string? timeZone, string problem)
    {
        var (spec, error) = FunctionSchedules.ToSpec(new ScheduleManifest(Cron: cron, TimeZone: timeZone));

        Assert.Null(spec);
        Assert.Contains(problem, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.999, 0, "at least 1 second")]
    [InlineData(-5, 0, "must not be negative")]
    [InlineData(10, 1, "cannot also have")]
    public void ToSpec_BadPeriod_SaysWhat(double seconds, int months, string problem)
    {
        var (spec, error) = FunctionSchedules.ToSpec(new ScheduleManifest(PeriodMonths: months, PeriodSeconds: seconds));

        Assert.Null(spec);
        Assert.Contains(problem, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, "every 2s")]
    [InlineData(2.5, "every 2.5s")]
    [InlineData(5400, "every 1h30m")]
    [InlineData(86400, "every 1d")]
    public void ToSpec_Period_DescribesItAsAPersonWould(double seconds, string description) =>
        Assert.Equal(description, FunctionSchedules.ToSpec(new ScheduleManifest(PeriodSeconds: seconds)).Spec!.Description);

    [Fact]
    public void Trigger_Period_FirstFiresOnePeriodAfterTheDeployThenEveryPeriod()
    {
        var trigger = TriggerFor(new ScheduleSpec { Description = "every 2s", Period = TimeSpan.FromSeconds(2) });

        var first = trigger.GetFireTimeAfter(DeployedAt);

        Assert.Equal(DeployedAt.AddSeconds(2), first);
        Assert.Equal(DeployedAt.AddSeconds(4), trigger.GetFireTimeAfter(first));
    }

    [Fact]
    public void Trigger_CronInParis_FiresAtNineLocalOnWeekdaysAcrossTheDaylightSavingChange()
    {
        var (spec, _) = FunctionSchedules.ToSpec(new ScheduleManifest(Cron: "0 9 * * 1-5", TimeZone: "Europe/Paris"));
        var trigger = TriggerFor(spec!, deployedAt: new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

        // Friday 27 March 2026 is still winter time (UTC+1); Monday 30 March is summer time (UTC+2).
        var friday = trigger.GetFireTimeAfter(new DateTimeOffset(2026, 3, 27, 0, 0, 0, TimeSpan.Zero));
        var monday = trigger.GetFireTimeAfter(friday);

        Assert.Equal(new DateTimeOffset(2026, 3, 27, 8, 0, 0, TimeSpan.Zero), friday);
        Assert.Equal(new DateTimeOffset(2026, 3, 30, 7, 0, 0, TimeSpan.Zero), monday);
    }

    [Fact]
    public void IdFor_SameTick_SameCallAndAnotherTickAnother()
    {
        var function = Guid.NewGuid();
        var tick = DeployedAt.AddSeconds(2);

        Assert.Equal(ScheduledCalls.IdFor(function, tick), ScheduledCalls.IdFor(function, tick));
        Assert.NotEqual(ScheduledCalls.IdFor(function, tick), ScheduledCalls.IdFor(function, tick.AddSeconds(2)));
        Assert.NotEqual(ScheduledCalls.IdFor(function, tick), ScheduledCalls.IdFor(Guid.NewGuid(), tick));
        Assert.Matches("^fc-[0-9a-f]{32}$", ScheduledCalls.IdFor(function, tick));
    }

    [Fact]
    public void Book_AnOlderVersionHeardAfterANewerOne_DoesNotWin()
    {
        var book = new ScheduleBook();
        var appId = Guid.NewGuid();

        book.Deploy(AppWith(appId, version: 3, new ScheduleSpec { Description = "every 1s", Period = TimeSpan.FromSeconds(1) }));
        book.Deploy(AppWith(appId, version: 2, spec: null));

        var (apps, _, complete) = book.Snapshot();
        Assert.Equal(3, Assert.Single(apps).Version);
        Assert.False(complete);
    }

    private static Modal.Contracts.Apps.AppDeployed AppWith(Guid appId, int version, ScheduleSpec? spec) => new()
    {
        WorkspaceId = Guid.NewGuid(), AppId = appId, AppName = "a", BundleId = new string('0', 64), DeployedAt = DeployedAt, Version = version,
        Functions =
        [
            new Modal.Contracts.Apps.DeployedFunctionSpec
            {
                FunctionId = Guid.NewGuid(), Name = "f", MaxConcurrentInputs = 1, Timeout = TimeSpan.FromMinutes(1), Schedule = spec,
            },
        ],
    };

    private static ITrigger TriggerFor(ScheduleSpec spec, DateTimeOffset? deployedAt = null)
    {
        var app = new DesiredAppSchedules(Guid.NewGuid(), Guid.NewGuid(), 1, deployedAt ?? DeployedAt, [new DesiredSchedule(Guid.NewGuid(), "f", spec)]);
        var job = ScheduleJobs.Job(app, app.Functions[0]);
        return ScheduleJobs.Trigger(app, app.Functions[0], job);
    }
}
