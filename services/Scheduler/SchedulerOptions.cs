using System.ComponentModel.DataAnnotations;

namespace Modal.Scheduler;

/// <summary>Settings of the Scheduler service (section <c>Scheduler</c>).</summary>
public sealed class SchedulerOptions : IValidatableObject
{
    public const string SectionName = "Scheduler";

    /// <summary>A runner whose last heartbeat is older than this is gone: shown so, and its containers forgotten (replacements start elsewhere).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Scheduler:RunnerTimeout must be between 1 second and 1 hour.")]
    public TimeSpan RunnerTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a GPU type counts as present after the last heartbeat of a runner that has it. A call to a function whose
    /// GPU (and fallbacks) no runner offered within this window fails at once as <c>Modal.GpuUnavailable</c>; a runner
    /// restarting within it does not make such calls fail. A Scheduler that started less than this ago fails none (it
    /// has not heard every runner that may be restarting).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Scheduler:GpuTypeWindow must be between 1 second and 1 hour.")]
    public TimeSpan GpuTypeWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the autoscaler decides (it also decides at once when a call is queued or a container stops).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Scheduler:ScalingInterval must be between 50 ms and 1 minute.")]
    public TimeSpan ScalingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The install's runner key (<c>Scheduler:RunnerKey</c>, the one runners present to the Secrets service), which
    /// <c>GET /v1/runners</c> requires in <c>Modal-Runner-Key</c>. Unset: that route refuses everyone.
    /// </summary>
    [MinLength(32, ErrorMessage = "Scheduler:RunnerKey must be at least 32 characters.")]
    public string? RunnerKey { get; set; }

    /// <summary>How often the leading Scheduler checks Quartz's store against the deployed apps' schedules besides when a deploy or stop is heard.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Scheduler:ScheduleSyncInterval must be between 1 second and 1 hour.")]
    public TimeSpan ScheduleSyncInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How late a firing may be and still count as on time (Quartz's misfire threshold). A tick later than this — all
    /// Schedulers were down, or a dead instance's trigger waited for the cluster to notice — fires once, now.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Scheduler:MisfireThreshold must be between 1 second and 1 hour.")]
    public TimeSpan MisfireThreshold { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often each Scheduler tells the Quartz cluster it is alive; a silent instance's firings are taken over after about twice this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:01:00", ErrorMessage = "Scheduler:ClusterCheckinInterval must be between 0.5 second and 1 minute.")]
    public TimeSpan ClusterCheckinInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long the leader lease lasts from its last renewal (<see cref="Leadership.LeaderLease"/>): when the leader dies,
    /// another Scheduler takes over after at most this plus <see cref="LeaseRenewInterval"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00", ErrorMessage = "Scheduler:LeaseDuration must be between 1 second and 5 minutes.")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>How often the leader renews its lease, and a follower tries to take it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Scheduler:LeaseRenewInterval must be between 100 ms and 1 minute.")]
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(2);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // One renewal may fail (a slow database, a dropped connection) without the leader losing its lease.
        if (LeaseRenewInterval * 2 > LeaseDuration)
        {
            yield return new ValidationResult("Scheduler:LeaseRenewInterval must be at most half of Scheduler:LeaseDuration.",
                [nameof(LeaseRenewInterval), nameof(LeaseDuration)]);
        }
    }
}
