using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Container;
using Modal.Contracts.Calls;
using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Domain;

namespace Modal.GpuRunner.Consumers;

/// <summary>
/// Runs one input in the function's container and reports the outcome. A timeout kills the container; a failure or
/// timeout is retried by the function's policy (the next attempt is sent back to the function's queue after the
/// backoff delay); a container that dies mid-input makes the input be delivered again.
/// </summary>
public sealed partial class RunFunctionConsumer(
    FunctionCatalog catalog, ContainerPool pool, IOptions<GpuRunnerOptions> options, TimeProvider clock, ILogger<RunFunctionConsumer> logger)
    : IConsumer<RunFunction>
{
    /// <summary>Deliveries of an input whose container crashes before the call is failed (a crash caused by the input itself).</summary>
    public const int CrashRedeliveries = 2;

    public async Task Consume(ConsumeContext<RunFunction> context)
    {
        var input = context.Message;
        var entry = catalog.Find(input.FunctionId)
            ?? throw new InvalidOperationException($"Function {input.FunctionId} ({input.AppName}.{input.FunctionName}) is not deployed on this runner yet.");
        var bundleId = input.BundleId ?? entry.BundleId;

        await context.Publish(new FunctionCallStarted
        {
            FunctionCallId = input.FunctionCallId, Attempt = input.Attempt, RunnerId = options.Value.RunnerId, StartedAt = clock.GetUtcNow(),
        });

        ContainerProcess container;
        ContainerOutput output;
        try
        {
            container = await pool.GetAsync(entry, bundleId, context.CancellationToken);
            output = await InvokeWithTimeoutAsync(container, entry, input, context);
        }
        catch (ContainerCrashedException crash) when (context.GetRetryAttempt() >= CrashRedeliveries)
        {
            await FailAsync(context, entry, "Modal.ContainerCrashedException", crash.Message, "");
            return;
        }
        catch (TimeoutException)
        {
            var willRetry = input.Attempt <= entry.Function.MaxRetries;
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

        if (output.Succeeded)
        {
            await context.Publish(new FunctionCallSucceeded
            {
                FunctionCallId = input.FunctionCallId, Attempt = input.Attempt, ResultJson = output.ResultJson ?? "null",
                CompletedAt = clock.GetUtcNow(),
            });
            return;
        }
        await FailAsync(context, entry, output.ExceptionType ?? "Unknown", output.Message ?? "", output.StackTrace ?? "");
    }

    private async Task<ContainerOutput> InvokeWithTimeoutAsync(ContainerProcess container, CatalogEntry entry, RunFunction input, ConsumeContext context)
    {
        try
        {
            return await container.InvokeAsync(entry.Function.Name, input.ArgumentsJson, context.CancellationToken)
                .WaitAsync(input.Timeout, clock, context.CancellationToken);
        }
        catch (TimeoutException)
        {
            // The attempt's time is up: the container may be stuck in user code, so it goes (and its input with it).
            LogTimedOut(logger, input.FunctionCallId, input.Attempt, input.Timeout.TotalSeconds);
            await pool.RemoveAsync(entry.Function.FunctionId, container, StopReasons.TimedOut);
            throw;
        }
        catch (ContainerCrashedException)
        {
            await pool.RemoveAsync(entry.Function.FunctionId, container, StopReasons.Crashed);
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
