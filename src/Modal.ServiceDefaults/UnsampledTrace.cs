using System.Diagnostics;

namespace Modal.ServiceDefaults;

/// <summary>
/// Work that should leave no trace, across services: inside <see cref="Begin"/>, new spans have a parent marked "not
/// sampled", so they are not recorded, and bus messages sent meanwhile carry that mark, so the services that consume
/// them record nothing either. (Suppressing instrumentation instead would send messages without a trace context, and
/// their consumers would start a sampled trace of their own.)
/// </summary>
public static class UnsampledTrace
{
    /// <summary>Starts an unsampled trace as the current activity; dispose it to end it.</summary>
    public static Activity Begin(string operationName)
    {
        var activity = new Activity(operationName);
        activity.SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None);
        return activity.Start();
    }
}
