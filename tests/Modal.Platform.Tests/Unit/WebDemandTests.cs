using Modal.Contracts.Web;
using Modal.Scheduler.Autoscaling;

namespace Modal.Platform.Tests.Unit;

public sealed class WebDemandTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private readonly WebDemand _demand = new();
    private readonly Guid _function = Guid.NewGuid();

    [Fact]
    public void Total_TwoIngresses_SumsTheirLatestReports()
    {
        _demand.Record(Demand("api-a", inFlight: 3, waiting: 1, Now), Now);
        _demand.Record(Demand("api-b", inFlight: 2, waiting: 0, Now), Now);
        _demand.Record(Demand("api-a", inFlight: 4, waiting: 2, Now.AddSeconds(0.5)), Now.AddSeconds(0.5));

        Assert.Equal(new WebLoad(6, 2), _demand.Total([_function], Now.AddSeconds(0.5)));
    }

    [Fact]
    public void Record_OlderReportOfTheSameIngressArrivingLate_IsIgnored()
    {
        _demand.Record(Demand("api-a", inFlight: 5, waiting: 0, Now.AddSeconds(1)), Now.AddSeconds(1));

        Assert.False(_demand.Record(Demand("api-a", inFlight: 1, waiting: 9, Now), Now.AddSeconds(1.1)));
        Assert.Equal(new WebLoad(5, 0), _demand.Total([_function], Now.AddSeconds(1.1)));
    }

    [Fact]
    public void Record_ReportThatWaitedLongInTheQueue_IsIgnored()
    {
        Assert.False(_demand.Record(Demand("api-a", inFlight: 1, waiting: 1, Now), Now + WebDemand.Lifetime + TimeSpan.FromSeconds(1)));
        Assert.Equal(WebLoad.None, _demand.Total([_function], Now + WebDemand.Lifetime + TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void Total_IngressSilentBeyondTheLifetime_NoLongerCounts()
    {
        _demand.Record(Demand("dead", inFlight: 7, waiting: 7, Now), Now);
        var later = Now + WebDemand.Lifetime - TimeSpan.FromSeconds(1);
        _demand.Record(Demand("alive", inFlight: 1, waiting: 0, later), later);

        Assert.Equal(new WebLoad(8, 7), _demand.Total([_function], later));
        Assert.Equal(new WebLoad(1, 0), _demand.Total([_function], Now + WebDemand.Lifetime + TimeSpan.FromSeconds(0.5)));
        Assert.Equal(WebLoad.None, _demand.Total([_function], later + WebDemand.Lifetime + TimeSpan.FromSeconds(0.5)));
    }

    [Fact]
    public void Total_SeveralFunctionsOfOneGroup_AddUp_OthersDoNot()
    {
        var sibling = Guid.NewGuid();
        _demand.Record(Demand("api-a", inFlight: 1, waiting: 2, Now), Now);
        _demand.Record(Demand("api-a", inFlight: 10, waiting: 20, Now) with { FunctionId = sibling }, Now);
        _demand.Record(Demand("api-a", inFlight: 100, waiting: 200, Now) with { FunctionId = Guid.NewGuid() }, Now);

        Assert.Equal(new WebLoad(11, 22), _demand.Total([_function, sibling], Now));
    }

    [Fact]
    public void Forget_StoppedFunction_DropsItsDemand()
    {
        _demand.Record(Demand("api-a", inFlight: 1, waiting: 1, Now), Now);

        _demand.Forget(_function);

        Assert.Equal(WebLoad.None, _demand.Total([_function], Now));
    }

    private WebEndpointDemand Demand(string ingress, int inFlight, int waiting, DateTimeOffset reportedAt) => new()
    {
        IngressId = ingress, FunctionId = _function, InFlight = inFlight, Waiting = waiting, ReportedAt = reportedAt,
    };
}
