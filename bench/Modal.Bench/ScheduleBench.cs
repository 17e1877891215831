using System.Collections.Concurrent;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Schedules;
using Modal.Deployment;
using Quartz;

namespace Modal.Bench;

/// <summary>
/// Firing accuracy: from the instant a schedule names to the function's body starting in a warm container (the body
/// returns the time it started; the same machine's clock), over a 1-second period, against bare Quartz in the same run
/// (an in-memory scheduler on this process firing a job that notes its own lateness): what scheduling itself costs.
/// </summary>
public static class ScheduleBench
{
    private const string AppName = "bench-schedule";

    public static async Task RunAsync(ModalClient client, DeploymentResult deployment, int firings)
    {
        var bare = BareQuartzAsync(firings);

        // The bench program's `clock` function, scheduled every second, one container kept warm.
        var functions = deployment.Manifest!.Functions
            .Where(f => f.Name == "clock")
            .Select(f => f with { Schedule = new ScheduleManifest(PeriodSeconds: 1), MinContainers = 1 })
            .ToList();
        await client.Apps.DeployAsync(AppName, new DeployAppRequest(functions, deployment.Bundle.Id));
        const int WarmUp = 5;
        var seen = new Dictionary<string, DateTimeOffset>();
        try
        {
            while (seen.Count < firings + WarmUp)
            {
                await Task.Delay(TimeSpan.FromSeconds(3));
                var listed = await client.Apps.ListSchedulesAsync(AppName);
                foreach (var firing in listed.Functions.SelectMany(f => f.LastFirings))
                {
                    seen.TryAdd(firing.FunctionCallId, firing.ScheduledAt);
                }
            }
        }
        finally
        {
            // Stopped whatever happens: a forgotten app would keep firing every second.
            await client.Apps.StopAsync(AppName);
        }
        var delays = new List<double>();
        foreach (var (callId, scheduledAt) in seen.OrderBy(f => f.Value).Skip(WarmUp).Take(firings))
        {
            var call = await client.Apps.GetCallAsync(callId, timeout: 30);
            if (call.State == "Succeeded" && call.Result is { } result)
            {
                delays.Add((result.GetDateTimeOffset() - scheduledAt).TotalMilliseconds);
            }
        }
        var quartz = await bare;
        Console.WriteLine($"== schedule: a 1 s period, {delays.Count} firings after {WarmUp} of warm-up (of {firings} asked), one warm container");
        Console.WriteLine($"bare Quartz (in memory) job starts late by     p50 {Percentile(quartz, 50):0.000} ms  p99 {Percentile(quartz, 99):0.000} ms");
        Console.WriteLine($"platform: scheduled instant → body starts      p50 {Percentile(delays, 50):0.000} ms  p99 {Percentile(delays, 99):0.000} ms  max {delays.DefaultIfEmpty().Max():0.000} ms");
    }

    // Quartz alone, as the floor: a RAM store on this process, a 1-second calendar interval, the job noting how late it began.
    private static async Task<List<double>> BareQuartzAsync(int firings)
    {
        LatenessJob.Wanted = firings;
        var scheduler = await QuartzSchedulerBuilder.Create(quartz => quartz.UseInMemoryStore(_ => { })).BuildScheduler(CancellationToken.None);
        await scheduler.Start(CancellationToken.None);
        var job = JobBuilder.Create<LatenessJob>().WithIdentity("bare").Build();
        var trigger = TriggerBuilder.Create(TimeProvider.System).StartAt(DateTimeOffset.UtcNow.AddSeconds(1))
            .WithSchedule(CalendarIntervalScheduleBuilder.Create().WithInterval(1, IntervalUnit.Second)).Build();
        await scheduler.ScheduleJob(job, trigger, new ScheduleJobOptions(), CancellationToken.None);
        await LatenessJob.Done.Task;
        await scheduler.Shutdown(false, CancellationToken.None);
        return [.. LatenessJob.Lateness];
    }

    private static double Percentile(List<double> values, int percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
    }

    // One bare run per process: the job reports through statics (Quartz creates it).
    private sealed class LatenessJob : IJob
    {
        public static readonly ConcurrentQueue<double> Lateness = new();
        public static readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public static int Wanted { get; set; }

        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            var started = DateTimeOffset.UtcNow;
            Lateness.Enqueue((started - (context.ScheduledFireTimeUtc ?? context.FireTimeUtc)).TotalMilliseconds);
            if (Lateness.Count >= Wanted)
            {
                Done.TrySetResult();
            }
            return ValueTask.CompletedTask;
        }
    }
}
