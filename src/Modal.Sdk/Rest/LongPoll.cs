namespace Modal.Rest;

/// <summary>The platform's long-poll rule: one request waits at most this long; clients wait longer by asking again.</summary>
internal static class LongPoll
{
    public static readonly TimeSpan MaxServerWait = TimeSpan.FromSeconds(50);
}
