using Modal.Contracts.Apps;
using Modal.Contracts.Web;
using Modal.Scheduler.Autoscaling;

namespace Modal.Platform.Tests.Unit;

/// <summary>Server functions (web apps and servers) scale on the ingresses' demand, not on a queue.</summary>
public sealed partial class ScalingStateTests
{
    [Fact]
    public void RecordDemand_WaitingRequestAndNoContainer_AsksForARoundNow_AndTheRoundStartsOne()
    {
        Runner("node", []);
        var server = Deploy(Server("api", maxConcurrent: 4));

        Assert.True(_state.RecordDemand(WebDemandOf(server.FunctionId, inFlight: 0, waiting: 1)));
        var start = Assert.Single(_state.Scale(server.Key, backlog: 0).Starts);
        Assert.Equal(server.FunctionId, start.FunctionId);

        // Its container is on its way: more reports wait for it rather than waking another round each.
        Assert.False(_state.RecordDemand(WebDemandOf(server.FunctionId, inFlight: 0, waiting: 2)));
        Assert.Empty(_state.Scale(server.Key, backlog: 0).Starts);
    }

    [Fact]
    public void Scale_Server_DesiresInFlightPlusWaitingOverTheRequestLimit_PlusBuffer_WithinMax()
    {
        Runner("node", []);
        var server = Deploy(Server("api", maxConcurrent: 4, buffer: 1, max: 5));

        _state.RecordDemand(WebDemandOf(server.FunctionId, inFlight: 6, waiting: 3, ingress: "a"));
        _state.RecordDemand(WebDemandOf(server.FunctionId, inFlight: 2, waiting: 1, ingress: "b"));
        var commands = _state.Scale(server.Key, backlog: 0);

        Assert.Equal(4, commands.Desired); // ceil(12 / 4) + 1 buffer.
        Assert.Equal(4, commands.Starts.Count);

        _state.RecordDemand(WebDemandOf(server.FunctionId, inFlight: 40, waiting: 40, ingress: "a"));
        Assert.Equal(5, _state.Scale(server.Key, backlog: 0).Desired);
    }

    [Fact]
    public void Scale_Server_QueueBacklogArgumentIgnoredButHeartbeatInFlightCounts_WhenReportsLapsed()
    {
        Runner("node", []);
        var server = Deploy(Server("api", maxConcurrent: 2));
        Report("node", [Container("c1", server.FunctionId, running: 2), Container("c2", server.FunctionId, running: 2)]);

        // No demand reports at all (expired or never sent): the containers' own count of requests keeps both.
        var commands = _state.Scale(server.Key, backlog: 0);

        Assert.Equal(2, commands.Desired);
        Assert.Empty(commands.Stops);
    }

    [Fact]
    public void Scale_Server_DemandExpiresAndContainersIdle_ScalesToZeroAfterTheWindow()
    {
        Runner("node", []);
        var server = Deploy(Server("api", maxConcurrent: 1, scaledown: TimeSpan.FromSeconds(30)));
        _state.RecordDemand(WebDemandOf(server.FunctionId, inFlight: 0, waiting: 1));
        var start = Assert.Single(_state.Scale(server.Key, backlog: 0).Starts);
        Report("node", [Container(start.ContainerId, server.FunctionId, running: 0)]);

        _clock.Advance(WebDemand.Lifetime + TimeSpan.FromSeconds(1));
        Report("node", [Container(start.ContainerId, server.FunctionId, running: 0) with { LastBusyAt = _clock.GetUtcNow() - WebDemand.Lifetime }]);
        Assert.Empty(_state.Scale(server.Key, backlog: 0).Stops); // Idle, but not for the scale-down window yet.

        _clock.Advance(TimeSpan.FromSeconds(30));
        Report("node", [Container(start.ContainerId, server.FunctionId, running: 0) with { LastBusyAt = _clock.GetUtcNow() - TimeSpan.FromSeconds(31) }]);
        Assert.Equal(start.ContainerId, Assert.Single(_state.Scale(server.Key, backlog: 0).Stops).ContainerId);
    }

    [Fact]
    public void RecordDemand_PlainFunctionOrUnknownFunction_IsIgnored()
    {
        Runner("node", []);
        var plain = Deploy(Function("plain"));

        Assert.False(_state.RecordDemand(WebDemandOf(plain.FunctionId, inFlight: 0, waiting: 5)));
        Assert.False(_state.RecordDemand(WebDemandOf(Guid.NewGuid(), inFlight: 0, waiting: 5)));
        Assert.Empty(_state.Scale(plain.Key, backlog: 0).Starts);
    }

    [Fact]
    public void Targets_ServerFunction_IsNamedSoTheLoopReadsNoQueueForIt()
    {
        var server = Deploy(Server("api", maxConcurrent: 1));
        var plain = Deploy(Function("plain"));

        var targets = _state.Targets().ToDictionary(t => t.GroupKey);

        Assert.Equal([server.FunctionId], targets[server.Key].ServerFunctionIds);
        Assert.Empty(targets[plain.Key].ServerFunctionIds);
    }

    private static DeployedFunctionSpec Server(
        string name, int maxConcurrent, int buffer = 0, int? max = null, TimeSpan? scaledown = null) => new()
    {
        FunctionId = Guid.NewGuid(), Name = name, MaxConcurrentInputs = maxConcurrent, Timeout = TimeSpan.FromMinutes(1),
        BufferContainers = buffer, MaxContainers = max, ScaledownWindow = scaledown ?? TimeSpan.FromSeconds(60),
        Web = new WebEndpointSpec { Kind = "AspNetApp" },
    };

    private WebEndpointDemand WebDemandOf(Guid functionId, int inFlight, int waiting, string ingress = "api-1") => new()
    {
        IngressId = ingress, FunctionId = functionId, InFlight = inFlight, Waiting = waiting, ReportedAt = _clock.GetUtcNow(),
    };
}
