using Modal.Contracts.Apps;
using Modal.Contracts.Schedules;

namespace Modal.Scheduler.Schedules;

/// <summary>A scheduled function of a deployed app, as its deploy asked.</summary>
public sealed record DesiredSchedule(Guid FunctionId, string FunctionName, ScheduleSpec Spec);

/// <summary>What a deployed app's version asks to be scheduled (possibly nothing, which removes what an earlier version had).</summary>
public sealed record DesiredAppSchedules(Guid WorkspaceId, Guid AppId, int Version, DateTimeOffset DeployedAt, IReadOnlyList<DesiredSchedule> Functions);

/// <summary>
/// The schedules deployed apps ask for, as this Scheduler heard them (deploy and stop events, and the Api's list at
/// start). Every instance keeps one, so whichever leads can register them in Quartz (<see cref="ScheduleRegistrar"/>).
/// </summary>
public sealed class ScheduleBook
{
    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, DesiredAppSchedules> _apps = [];
    private readonly HashSet<Guid> _stopped = [];
    private bool _complete;

    /// <summary>A deploy (or the Api's list at start): the app's schedules are those of this version, unless a newer one was heard.</summary>
    public void Deploy(AppDeployed app)
    {
        var functions = app.Functions.Where(f => f.Schedule is not null)
            .Select(f => new DesiredSchedule(f.FunctionId, f.Name, f.Schedule!)).ToList();
        lock (_gate)
        {
            if (_apps.TryGetValue(app.AppId, out var known) && known.Version > app.Version)
            {
                return; // The Api's list was read before a deploy this instance already heard.
            }
            _apps[app.AppId] = new DesiredAppSchedules(app.WorkspaceId, app.AppId, app.Version, app.DeployedAt, functions);
            _stopped.Remove(app.AppId);
        }
    }

    /// <summary>A stopped app: its schedules go.</summary>
    public void Stop(Guid appId)
    {
        lock (_gate)
        {
            _apps.Remove(appId);
            _stopped.Add(appId);
        }
    }

    /// <summary>
    /// The Api's list of deployed apps was applied: from now on an app this book does not know is not deployed, so its
    /// schedules may be removed. Before it, only apps heard to stop lose theirs.
    /// </summary>
    public void MarkComplete()
    {
        lock (_gate)
        {
            _complete = true;
        }
    }

    /// <summary>What to register now: the apps' schedules, the apps heard to stop, and whether the book is complete.</summary>
    public (IReadOnlyList<DesiredAppSchedules> Apps, IReadOnlyList<Guid> Stopped, bool Complete) Snapshot()
    {
        lock (_gate)
        {
            return ([.. _apps.Values], [.. _stopped], _complete);
        }
    }

    /// <summary>Forgets stopped apps whose schedules are removed.</summary>
    public void Removed(IEnumerable<Guid> appIds)
    {
        lock (_gate)
        {
            _stopped.ExceptWith(appIds);
        }
    }
}
