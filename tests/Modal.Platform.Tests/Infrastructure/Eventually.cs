namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Waits for a condition that the system reaches asynchronously (a heartbeat arriving, a reconnect).
/// The limit only bounds a hung test; nothing asserts on how long it took.
/// </summary>
internal static class Eventually
{
    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? limit = null)
    {
        using var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromSeconds(90));
        var last = default(T);
        Exception? lastError = null;
        while (!timeout.IsCancellationRequested)
        {
            try
            {
                last = await probe();
                if (done(last))
                {
                    return last;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                lastError = e;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
        }
        throw new TimeoutException($"Gave up waiting until {what}. Last value: {last}", lastError);
    }
}
