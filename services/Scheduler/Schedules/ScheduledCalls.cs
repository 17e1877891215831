using System.Security.Cryptography;

namespace Modal.Scheduler.Schedules;

/// <summary>
/// The call id of a function's firing for one scheduled instant: the same for every firing of that tick (a Quartz
/// recovery after a Scheduler died mid-firing, an event delivered twice), so the Api makes one call of it.
/// </summary>
public static class ScheduledCalls
{
    public static string IdFor(Guid functionId, DateTimeOffset scheduledAt)
    {
        Span<byte> input = stackalloc byte[24];
        functionId.TryWriteBytes(input);
        BitConverter.TryWriteBytes(input[16..], scheduledAt.ToUnixTimeMilliseconds());
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(input, hash);
        return $"fc-{Convert.ToHexStringLower(hash[..16])}";
    }
}
