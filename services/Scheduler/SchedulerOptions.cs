using System.ComponentModel.DataAnnotations;

namespace Modal.Scheduler;

/// <summary>Settings of the Scheduler service (section <c>Scheduler</c>).</summary>
public sealed class SchedulerOptions
{
    public const string SectionName = "Scheduler";

    /// <summary>A runner whose last heartbeat is older than this is shown as gone (and, later, its containers are forgotten).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Scheduler:RunnerTimeout must be between 1 second and 1 hour.")]
    public TimeSpan RunnerTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
