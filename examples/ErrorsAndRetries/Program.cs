// How failures reach the caller, and how retries and timeouts behave on the platform.
// Run it with `modal run examples/ErrorsAndRetries`.
using Modal;

var app = new App("example-errors-and-retries");

// Throws: the caller gets a RemoteFunctionException carrying the remote type, message and stack trace.
var divide = app.Function("divide", (int a, int b) => Divide(a, b));

// Fails on its first two attempts, then succeeds: Retries = 2 makes the call succeed after two retries, each 200 ms
// after the failure before it. (The counter lives in the container, which survives a failed attempt.)
var attempts = 0;
var flaky = app.Function("flaky", (string caller) =>
{
    var attempt = Interlocked.Increment(ref attempts);
    return attempt <= 2 ? throw new TimeoutException($"flaky failure {attempt} for {caller}") : $"succeeded on attempt {attempt}";
}, new FunctionOptions { Retries = new Retries(2, backoffCoefficient: 1.0, initialDelay: TimeSpan.FromMilliseconds(200)) });

// Fails the first time its container sees a key that starts with "fail", and is retried 20 s later. It has one
// container taking one input at a time, yet other inputs run in it while a retry waits: a backoff holds no container.
var failedKeys = new HashSet<string>();
app.Function("fail_once", (string key) =>
{
    lock (failedKeys)
    {
        if (key.StartsWith("fail", StringComparison.Ordinal) && failedKeys.Add(key))
        {
            throw new InvalidOperationException($"first attempt for {key} fails");
        }
    }
    return key;
}, new FunctionOptions { Retries = new Retries(1, initialDelay: TimeSpan.FromSeconds(20)), MaxContainers = 1, MaxConcurrentInputs = 1 });

// Runs past its 2-second timeout: the container is killed and the caller gets a FunctionTimeoutException.
var slow = app.Function("slow", async (int seconds) =>
{
    await Task.Delay(TimeSpan.FromSeconds(seconds));
    return seconds;
}, new FunctionOptions { Timeout = TimeSpan.FromSeconds(2) });

// Waits until it is cancelled: FunctionCall.CancelAsync() fires FunctionContext.Current.CancellationToken.
var cancellable = app.Function("cancellable", async (int seconds) =>
{
    try
    {
        await Task.Delay(TimeSpan.FromSeconds(seconds), FunctionContext.Current!.CancellationToken);
        return "finished";
    }
    catch (OperationCanceledException)
    {
        // Lets the platform's tests see that the cancel reached the function: they name a folder for the marker.
        if (Environment.GetEnvironmentVariable("MODAL_EXAMPLE_MARKERS") is { Length: > 0 } markers)
        {
            File.WriteAllText(Path.Combine(markers, $"cancelled-{FunctionContext.Current!.FunctionCallId}"), "cancelled");
        }
        throw;
    }
});

app.LocalEntrypoint(async () =>
{
    try
    {
        await divide.RemoteAsync(1, 0);
    }
    catch (RemoteFunctionException e)
    {
        Console.WriteLine($"divide failed remotely with {e.RemoteType}: {e.RemoteMessage}");
    }

    Console.WriteLine(await flaky.RemoteAsync("entrypoint"));

    try
    {
        await slow.RemoteAsync(10);
    }
    catch (FunctionTimeoutException e)
    {
        Console.WriteLine($"slow timed out: {e.Message}");
    }

    var waiting = await cancellable.SpawnAsync(600);
    await Task.Delay(TimeSpan.FromSeconds(1));
    await waiting.CancelAsync();
    try
    {
        await waiting.GetAsync();
    }
    catch (FunctionCallCancelledException)
    {
        Console.WriteLine("cancellable was cancelled");
    }
});

return await app.RunAsync(args);

static int Divide(int a, int b) => a / b;

