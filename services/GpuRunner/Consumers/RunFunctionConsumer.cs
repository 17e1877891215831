using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Calls;
using Modal.GpuRunner.Calls;
using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Infrastructure;

namespace Modal.GpuRunner.Consumers;

/// <summary>
/// Runs one input in the function's container and reports the outcome. A failure or timeout is retried by the
/// function's policy (<see cref="RetryPolicy"/>: the next attempt waits out the backoff in a delay queue on the broker,
/// <see cref="DelayQueues"/>, and the input here is acknowledged at once, so the backoff holds neither a container slot
/// nor a place among the endpoint's inputs in flight); a container that dies mid-input makes the input be delivered
/// again, a few times, before the call fails.
/// </summary>
public sealed class RunFunctionConsumer(
    FunctionCatalog catalog, InputSlots slots, InputAttempts attempts, RunningCalls runningCalls, CallLogShipper logs,
    DelayQueues delays, IOptions<GpuRunnerOptions> options, TimeProvider clock)
    : IConsumer<RunFunction>
{
    // Crashes of earlier deliveries of an input that was sent back to the queue (its retry count starts over there).
    private const string CrashesHeader = "Modal-Container-Crashes";

    public async Task Consume(ConsumeContext<RunFunction> context)
    {
        var input = context.Message;
        if (catalog.Find(input.FunctionId) is not { } entry)
        {
            // Queues are consumed only once their app is known, so an unknown function is one whose app was stopped.
            await context.Publish(new FunctionCallFailed
            {
                FunctionCallId = input.FunctionCallId, Attempt = input.Attempt, ExceptionType = Modal.Api.Contracts.RemoteErrorTypes.AppStopped,
                Message = $"App '{input.AppName}' was stopped before this input of '{input.FunctionName}' ran.", StackTrace = "",
                WillRetry = false, FailedAt = clock.GetUtcNow(),
            });
            return;
        }
        if (await RunAttemptAsync(context, entry) is { } outcome)
        {
            // The slot is free again, and a retry's backoff is waited on the broker: neither keeps other inputs out.
            await ReportAsync(context, entry, outcome);
        }
    }

    /// <summary>Runs the input in a free slot of one of this runner's containers of the function; null when it did not run here.</summary>
    private async Task<AttemptOutcome?> RunAttemptAsync(ConsumeContext<RunFunction> context, CatalogEntry entry)
    {
        var input = context.Message;
        using var lease = await slots.AcquireAsync(entry.ContainerGroup, context.CancellationToken);
        if (lease is null)
        {
            await RequeueAsync(context); // Its last container here stopped meanwhile: another container takes the input.
            return null;
        }
        if (runningCalls.Start(input.FunctionCallId) is not { } call)
        {
            return null; // Cancelled while queued: the Api has recorded it; nothing runs.
        }
        // Announced while the input already runs: the broker's confirm of this event is not on the call's path.
        var started = context.Publish(new FunctionCallStarted
        {
            FunctionCallId = input.FunctionCallId, Attempt = input.Attempt, RunnerId = options.Value.RunnerId, StartedAt = clock.GetUtcNow(),
        });
        try
        {
            return await attempts.RunAsync(entry, lease,
                new AttemptInput(input.FunctionCallId, $"Call {input.FunctionCallId}", input.Attempt, input.ArgumentsJson, input.ArgumentsBlob, input.Timeout),
                call, logs.Open(input.FunctionCallId, input.Attempt, entry.AppId, entry.Function.Name), context.CancellationToken);
        }
        finally
        {
            runningCalls.Finish(input.FunctionCallId, call);
            // The attempt's lines go out before its outcome, so whoever reads the result can read all its logs.
            await logs.CloseAsync(input.FunctionCallId, input.Attempt);
            await started;
        }
    }

    private async Task ReportAsync(ConsumeContext<RunFunction> context, CatalogEntry entry, AttemptOutcome outcome)
    {
        var input = context.Message;
        switch (outcome.End)
        {
            case AttemptEnd.Cancelled:
                return;
            case AttemptEnd.Returned:
                await context.Publish(new FunctionCallSucceeded
                {
                    FunctionCallId = input.FunctionCallId, Attempt = input.Attempt, ResultJson = outcome.ResultJson ?? "",
                    ResultBlob = outcome.ResultBlob, CompletedAt = clock.GetUtcNow(),
                });
                return;
            case AttemptEnd.Crashed when CrashesSoFar(context) < RetryPolicy.CrashRedeliveries:
                // Delivered again (the endpoint's retry, then the queue): the crash may have been the container's, not the input's.
                throw new ContainerCrashedException(outcome.Message);
            case AttemptEnd.TimedOut:
                var willRetry = RetryPolicy.WillRetry(entry.Function, input.Attempt);
                await context.Publish(new FunctionCallTimedOut
                {
                    FunctionCallId = input.FunctionCallId, Attempt = input.Attempt, Timeout = input.Timeout, WillRetry = willRetry,
                    TimedOutAt = clock.GetUtcNow(),
                });
                if (willRetry)
                {
                    await RetryAsync(context, entry);
                }
                return;
            default:
                await FailAsync(context, entry, outcome);
                return;
        }
    }

    private async Task FailAsync(ConsumeContext<RunFunction> context, CatalogEntry entry, AttemptOutcome outcome)
    {
        var input = context.Message;
        var willRetry = RetryPolicy.WillRetry(entry.Function, input.Attempt);
        await context.Publish(new FunctionCallFailed
        {
            FunctionCallId = input.FunctionCallId, Attempt = input.Attempt, ExceptionType = outcome.ExceptionType, Message = outcome.Message,
            StackTrace = outcome.StackTrace, WillRetry = willRetry, FailedAt = clock.GetUtcNow(),
        });
        if (willRetry)
        {
            await RetryAsync(context, entry);
        }
    }

    /// <summary>
    /// Puts the input back on the function's queue as it is (the delivery here is acknowledged), with the crashes it
    /// has caused so far, so an input that kills every container it meets still fails after <see cref="RetryPolicy.CrashRedeliveries"/>.
    /// </summary>
    private static async Task RequeueAsync(ConsumeContext<RunFunction> context)
    {
        var queue = await context.GetSendEndpoint(new Uri($"queue:{FunctionQueues.NameFor(context.Message.FunctionId)}"));
        var crashes = CrashesSoFar(context);
        await queue.Send(context.Message, send => send.Headers.Set(CrashesHeader, crashes), context.CancellationToken);
    }

    private static int CrashesSoFar(ConsumeContext context) => (context.Headers.Get<int>(CrashesHeader) ?? 0) + context.GetRetryAttempt();

    /// <summary>
    /// Sends the next attempt to the function's queue by way of the policy's delay; the current one is acknowledged as
    /// soon as the broker has it. The Api keeps showing the call as running meanwhile.
    /// </summary>
    private Task RetryAsync(ConsumeContext<RunFunction> context, CatalogEntry entry)
    {
        var input = context.Message;
        return delays.SendAsync(context, input.FunctionId, input with { Attempt = input.Attempt + 1 },
            RetryPolicy.DelayBeforeAttempt(entry.Function, input.Attempt + 1), context.CancellationToken);
    }
}
