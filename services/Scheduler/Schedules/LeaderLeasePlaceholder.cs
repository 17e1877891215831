namespace Modal.Scheduler.Schedules;

// PLACEHOLDER until the lease branch merges: every instance leads.
public sealed class LeaderLease
{
    public bool IsLeader => true;

#pragma warning disable CS0067 // Raised once the real lease lands.
    public event Action<bool>? LeadershipChanged;
#pragma warning restore CS0067
}
