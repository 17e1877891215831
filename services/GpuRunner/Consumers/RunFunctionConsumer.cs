using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Container.Protocol;
using Modal.Contracts.Calls;
using Modal.GpuRunner.Calls;
using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Secrets;

namespace Modal.GpuRunner.Consumers;

/// <summary>
/// Runs one input in the function's container and reports the outcome. A timeout kills the container; a failure or
/// timeout is retried by the function's policy (the next attempt is sent back to the function's queue after the
/// backoff delay); a container that dies mid-input makes the input be delivered again.
/// </summary>
public sealed partial class RunFunctionConsumer(
    FunctionCatalog catalog, ContainerPool pool, RunningCalls runningCalls, CallLogShipper logs, PayloadBlobs payloads, IOptions<GpuRunnerOptions> options,
    TimeProvider clock, ILogger<RunFunctionConsumer> logger)
    : IConsumer<RunFunction>
{
    /// <summary>Deliveries of an input whose container crashes before the call is failed (a crash caused by the input itself).</summary>
    public const int CrashRedeliveries = 2;

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
                FunctionCallId = input.FunctionCallId, Attempt = input.Attempt, ExceptionType = "Modal.AppStopped",
                Message = $"App '{input.AppName}' was stopped before this input of '{input.FunctionName}' ran.", StackTrace = "",
                WillRetry = false, FailedAt = clock.GetUtcNow(),
            });
            return;
        }
        // The container this input runs in: a free slot of one of this runner's containers of the function.
        using var lease = await pool.AcquireAsync(entry, context.CancellationToken);
        if (lease is null)
        {
            await RequeueAsync(context); // Its last container here stopped meanwhile: another container takes the input.
            return;
        }
        if (runningCalls.Start(input.FunctionCallId) is not { } call)
        {
            return; // Cancelled while queued: the Api has recorded it; nothing runs.
        }
        try
        {
            await RunAsync(context, entry, lease, call);
        }
        finally
        {
            runningCalls.Finish(input.FunctionCallId, call);
            await logs.CloseAsync(input.FunctionCallId, input.Attempt);
        }
    }

    private async Task RunAsync(ConsumeContext<RunFunction> context, CatalogEntry entry, ContainerPool.ContainerLease lease, RunningCall call)
    {
        // Announced while the input already runs: the broker's confirm of this event is not on the call's path.
        var started = context.Publish(new FunctionCallStarted
        {
            FunctionCallId = context.Message.FunctionCallId, Attempt = context.Message.Attempt, RunnerId = options.Value.RunnerId,
            StartedAt = clock.GetUtcNow(),
        });
        try
        {
            await RunAndReportAsync(context, entry, lease, call);
        }
        finally
        {
            await started;
        }
    }

    private async Task RunAndReportAsync(ConsumeContext<RunFunction> context, CatalogEntry entry, ContainerPool.ContainerLease lease, RunningCall call)
    {
        var input = context.Message;

        ContainerFrame output;
        try
        {
            output = await InvokeWithTimeoutAsync(lease.Process, entry, input, call, context);
        }
        catch (ContainerStartException failed) when (failed.InnerException is ContainerSecretsException missing)
        {
            // Deterministic (a deleted secret or key): fail the call saying which, rather than redeliver it.
            await FailAsync(context, entry, ContainerSecretsException.RemoteType,
                $"Function '{entry.Function.Name}' cannot start: {missing.Message}", "");
            return;
        }
        catch (ContainerStartException failed) when (failed.InnerException is ContainerOutOfMemoryException outOfMemory)
        {
            // An [Enter] hook ran out of memory: deterministic for this function, so the input fails saying so.
            await FailAsync(context, entry, ContainerOutOfMemoryException.RemoteType, outOfMemory.Message, "");
            return;
        }
        catch (ContainerOutOfMemoryException outOfMemory)
        {
            // Deterministic for this input (a redelivery would run out again): fail it, retried by the function's policy.
            await FailAsync(context, entry, ContainerOutOfMemoryException.RemoteType, outOfMemory.Message, "");
            return;
        }
        catch (ContainerStartException failed)
        {
            // The container died before it listened (e.g. an exception in [Enter]): the input would meet the same fate.
            await FailAsync(context, entry, "Modal.ContainerCrashedException", $"Function '{entry.Function.Name}' cannot start: {failed.Message}", "");
            return;
        }
        catch (ContainerCrashedException crash) when (CrashesSoFar(context) >= CrashRedeliveries)
        {
            await FailAsync(context, entry, "Modal.ContainerCrashedException", crash.Message, "");
            return;
        }
        catch (OperationCanceledException) when (call.Cancelled.IsCancellationRequested)
        {
            return; // The caller cancelled: the Api recorded it; the function was told through its cancellation token.
        }
        catch (TimeoutException)
        {
            var willRetry = input.Attempt <= entry.Function.MaxRetries;
            await logs.CloseAsync(input.FunctionCallId, input.Attempt);
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
        }

        // The attempt's lines go out before its outcome, so whoever reads the result can read all its logs.
        await logs.CloseAsync(input.FunctionCallId, input.Attempt);
        if (output.Succeeded)
        {
            var result = output.ResultJson ?? "null";
            var resultBlob = PayloadBlobs.FitsInline(result) ? null : await payloads.WriteAsync(result, context.CancellationToken);
            await context.Publish(new FunctionCallSucceeded
            {
                FunctionCallId = input.FunctionCallId, Attempt = input.Attempt, ResultJson = resultBlob is null ? result : "",
                ResultBlob = resultBlob, CompletedAt = clock.GetUtcNow(),
            });
            return;
        }
        await FailAsync(context, entry, output.ExceptionType ?? "Unknown", output.Message ?? "", output.StackTrace ?? "");
    }

    private async Task<ContainerFrame> InvokeWithTimeoutAsync(
        ContainerProcess container, CatalogEntry entry, RunFunction input, RunningCall call, ConsumeContext context)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, call.Cancelled);
        var arguments = input.ArgumentsBlob is { } blob ? await payloads.ReadAsync(blob, cancellation.Token) : input.ArgumentsJson;
        try
        {
            return await container.InvokeAsync(entry.Function.Name, arguments, input.FunctionCallId,
                    logs.Open(input.FunctionCallId, input.Attempt, entry.AppId, entry.Function.Name), cancellation.Token)
                .WaitAsync(input.Timeout, clock, cancellation.Token);
        }
        catch (TimeoutException)
        {
            // The attempt's time is up: the container may be stuck in user code, so it goes (and its input with it).
            LogTimedOut(logger, input.FunctionCallId, input.Attempt, input.Timeout.TotalSeconds);
            await pool.RemoveAsync(container, StopReasons.TimedOut);
            throw;
        }
        catch (OperationCanceledException) when (call.Cancelled.IsCancellationRequested && call.TerminateContainer)
        {
            await pool.RemoveAsync(container, StopReasons.Cancelled);
            throw;
        }
        catch (ContainerCrashedException)
        {
            var outOfMemory = pool.DescribeOutOfMemory(entry, container);
            await pool.RemoveAsync(container, outOfMemory is null ? StopReasons.Crashed : StopReasons.OutOfMemory);
            if (outOfMemory is not null)
            {
                throw new ContainerOutOfMemoryException(outOfMemory);
            }
            throw;
        }
    }

    private async Task FailAsync(ConsumeContext<RunFunction> context, CatalogEntry entry, string type, string message, string stackTrace)
    {
        var input = context.Message;
        var willRetry = input.Attempt <= entry.Function.MaxRetries;
        await context.Publish(new FunctionCallFailed
        {
            FunctionCallId = input.FunctionCallId, Attempt = input.Attempt, ExceptionType = type, Message = message,
            StackTrace = stackTrace, WillRetry = willRetry, FailedAt = clock.GetUtcNow(),
        });
        if (willRetry)
        {
            await RetryAsync(context, entry);
        }
    }

    /// <summary>
    /// Puts the input back on the function's queue as it is (the delivery here is acknowledged), with the crashes it
    /// has caused so far, so an input that kills every container it meets still fails after <see cref="CrashRedeliveries"/>.
    /// </summary>
    private static async Task RequeueAsync(ConsumeContext<RunFunction> context)
    {
        var queue = await context.GetSendEndpoint(new Uri($"queue:{FunctionQueues.NameFor(context.Message.FunctionId)}"));
        var crashes = CrashesSoFar(context);
        await queue.Send(context.Message, send => send.Headers.Set(CrashesHeader, crashes), context.CancellationToken);
    }

    private static int CrashesSoFar(ConsumeContext context) => (context.Headers.Get<int>(CrashesHeader) ?? 0) + context.GetRetryAttempt();

    /// <summary>Sends the next attempt to the function's queue after the policy's delay (the current one is acknowledged).</summary>
    private async Task RetryAsync(ConsumeContext<RunFunction> context, CatalogEntry entry)
    {
        var input = context.Message;
        var function = entry.Function;
        var seconds = function.InitialDelay.TotalSeconds * Math.Pow(function.BackoffCoefficient, input.Attempt - 1);
        var delay = TimeSpan.FromSeconds(Math.Min(seconds, function.MaxDelay.TotalSeconds));
        await Task.Delay(delay, clock, context.CancellationToken);
        var queue = await context.GetSendEndpoint(new Uri($"queue:{FunctionQueues.NameFor(input.FunctionId)}"));
        await queue.Send(input with { Attempt = input.Attempt + 1 }, context.CancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId} attempt {Attempt} ran past its timeout of {Seconds} s; its container is killed")]
    private static partial void LogTimedOut(ILogger logger, string callId, int attempt, double seconds);
}
