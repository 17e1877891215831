using Modal.Contracts.Containers;

namespace Modal.GpuRunner.Containers;

/// <summary>Why a container stopped, as <see cref="ContainerStopped.Reason"/> names it.</summary>
public static class StopReasons
{
    public const string TimedOut = "TimedOut";
    public const string Crashed = "Crashed";
    public const string Replaced = "Replaced";
    public const string RunnerStopping = "RunnerStopping";
    public const string AppStopped = "AppStopped";
    public const string Cancelled = "Cancelled";
    public const string ScaledDown = "ScaledDown";
    public const string SingleUse = "SingleUse";
    public const string OutOfMemory = "OutOfMemory";
    public const string StartFailed = "StartFailed";
}
