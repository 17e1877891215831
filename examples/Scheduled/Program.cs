// Functions that run by themselves (Modal's `schedule=`): a period counted from the deploy, and cron expressions.
// Schedules are active only while the app is deployed: `modal deploy examples/Scheduled`, then
// `modal app schedules example-scheduled` shows when each fires next and what its last firings did.
// (`modal run examples/Scheduled` runs the local entrypoint once; it schedules nothing.)
using Modal;

var app = new App("example-scheduled");

// Every minute from the deploy on (a redeploy starts counting again). Each firing is a normal call: queued, retried,
// logged, its result kept; it leaves the time it ran in a Dict, where anything on the platform can read it.
var heartbeat = app.Function("heartbeat", async () =>
{
    var now = DateTimeOffset.UtcNow;
    Console.WriteLine($"heartbeat at {now:O}");
    await Dict.FromName(app.Client, "example-scheduled", createIfMissing: true).PutAsync("last-heartbeat", now.ToString("O"));
    return now;
}, new FunctionOptions { Schedule = new Period(minutes: 1) });

// At 03:00 UTC every night: cron times do not move when the app is redeployed.
app.Function("nightly_cleanup", () =>
{
    Console.WriteLine("cleaning up yesterday's scratch data");
    return 0;
}, new FunctionOptions { Schedule = new Cron("0 3 * * *"), Retries = 2 });

// Weekdays at 09:00 in Paris, whatever the season (the time zone follows daylight saving).
app.Function("weekday_digest", () =>
{
    Console.WriteLine($"digest for {DateOnly.FromDateTime(DateTime.UtcNow)}");
    return "sent";
}, new FunctionOptions { Schedule = new Cron("0 9 * * 1-5", "Europe/Paris") });

app.LocalEntrypoint(async () =>
{
    // A scheduled function is still a function: call it now, as any other.
    Console.WriteLine($"heartbeat ran at {await heartbeat.RemoteAsync()}");
});

return await app.RunAsync(args);
