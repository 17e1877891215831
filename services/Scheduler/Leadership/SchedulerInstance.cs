namespace Modal.Scheduler.Leadership;

/// <summary>
/// This Scheduler host (a DI singleton): names its own queues apart from another Scheduler's and holds the leader lease
/// under this id. Per host, not per process, so two Schedulers in one test process are two instances too.
/// </summary>
public sealed class SchedulerInstance
{
    public string Id { get; } = Guid.NewGuid().ToString("N")[..12];

    public override string ToString() => Id;
}
