using Modal.Contracts.Web;

namespace Modal.Scheduler.Autoscaling;

/// <summary>A server function's requests across every ingress: being served, and waiting for a container slot.</summary>
public readonly record struct WebLoad(int InFlight, int Waiting)
{
    public static WebLoad None => default;
}

/// <summary>
/// The latest <see cref="WebEndpointDemand"/> of every ingress for every server function, summed per function. A report
/// replaces that ingress's previous one (an older one arriving late is ignored); one not renewed within
/// <see cref="Lifetime"/> (by this Scheduler's clock) is dropped, so an Api replica that died stops counting. Not
/// thread-safe: <see cref="ScalingState"/> calls it under its lock.
/// </summary>
public sealed class WebDemand
{
    /// <summary>
    /// How long a report counts once received. Ingresses repeat theirs at least every second while they have requests
    /// in flight or waiting, so a few seconds rides out a late report without keeping a dead replica's demand long.
    /// </summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);

    private readonly Dictionary<Guid, Dictionary<string, Report>> _byFunction = [];

    private sealed record Report(int InFlight, int Waiting, DateTimeOffset ReportedAt, DateTimeOffset ReceivedAt);

    /// <summary>Keeps <paramref name="demand"/> as its ingress's figure for its function; false when it was stale or overtaken.</summary>
    public bool Record(WebEndpointDemand demand, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(demand);
        if (now - demand.ReportedAt > Lifetime)
        {
            return false; // Waited in the queue (e.g. while this Scheduler was down): says nothing about now.
        }
        if (!_byFunction.TryGetValue(demand.FunctionId, out var reports))
        {
            _byFunction[demand.FunctionId] = reports = new Dictionary<string, Report>(StringComparer.Ordinal);
        }
        if (reports.TryGetValue(demand.IngressId, out var previous) && demand.ReportedAt < previous.ReportedAt)
        {
            return false;
        }
        reports[demand.IngressId] = new Report(Math.Max(0, demand.InFlight), Math.Max(0, demand.Waiting), demand.ReportedAt, now);
        return true;
    }

    /// <summary>The sum of the live reports for <paramref name="functionIds"/>; expired ones are dropped on the way.</summary>
    public WebLoad Total(IEnumerable<Guid> functionIds, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(functionIds);
        int inFlight = 0, waiting = 0;
        foreach (var functionId in functionIds)
        {
            if (!_byFunction.TryGetValue(functionId, out var reports))
            {
                continue;
            }
            foreach (var (ingressId, report) in reports.ToList())
            {
                if (now - report.ReceivedAt > Lifetime)
                {
                    reports.Remove(ingressId);
                    continue;
                }
                inFlight += report.InFlight;
                waiting += report.Waiting;
            }
            if (reports.Count == 0)
            {
                _byFunction.Remove(functionId);
            }
        }
        return new WebLoad(inFlight, waiting);
    }

    /// <summary>The function's app stopped: its demand no longer matters.</summary>
    public void Forget(Guid functionId) => _byFunction.Remove(functionId);
}
