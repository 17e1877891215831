using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Secrets;

namespace Modal.GpuRunner.Calls;

/// <summary>
/// Runs one attempt of one input in a leased container slot and says how it ended: the one place that turns the ways
/// an attempt ends (returned, threw, timed out, container crashed or out of memory, container could not start,
/// cancelled) into an <see cref="AttemptOutcome"/>, for single calls and map inputs alike. A container that timed out,
/// crashed or was cancelled with its container is removed here.
/// </summary>
public sealed partial class InputAttempts(
    ContainerPool pool, ContainerStarter starter, PayloadBlobs payloads, TimeProvider clock, ILogger<InputAttempts> logger)
{
    public async Task<AttemptOutcome> RunAsync(
        CatalogEntry entry, ContainerLease lease, AttemptInput input, RunningCall call, Action<string, string> log, CancellationToken cancellationToken)
    {
        var function = entry.Function;
        ContainerProcess container;
        try
        {
            container = lease.Process;
        }
        catch (ContainerStartException failed) when (failed.InnerException is ContainerSecretsException missing)
        {
            // A deleted secret or key: the input fails saying which.
            return AttemptOutcome.Failed(ContainerSecretsException.RemoteType, $"Function '{function.Name}' cannot start: {missing.Message}");
        }
        catch (ContainerStartException failed) when (failed.InnerException is ContainerOutOfMemoryException outOfMemory)
        {
            return AttemptOutcome.Failed(ContainerOutOfMemoryException.RemoteType, outOfMemory.Message); // An [Enter] hook ran out of memory.
        }
        catch (ContainerStartException failed)
        {
            // The container died before it listened (e.g. an exception in [Enter]): the input would meet the same fate.
            return AttemptOutcome.Failed(AttemptOutcome.ContainerCrashedRemoteType, $"Function '{function.Name}' cannot start: {failed.Message}");
        }

        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.Cancelled);
        try
        {
            var arguments = input.ArgumentsBlob is { } blob ? await payloads.ReadAsync(entry.WorkspaceId, blob, cancellation.Token) : input.ArgumentsJson;
            var frame = await container.InvokeAsync(function.Name, arguments, input.CallId, log, cancellation.Token)
                .WaitAsync(input.Timeout, clock, cancellation.Token);
            if (!frame.Succeeded)
            {
                return AttemptOutcome.Failed(frame.ExceptionType ?? "Unknown", frame.Message ?? "", frame.StackTrace);
            }
            var result = frame.ResultJson ?? "null";
            var resultBlob = PayloadBlobs.FitsInline(result) ? null : await payloads.WriteAsync(entry.WorkspaceId, result, cancellationToken);
            return new AttemptOutcome { End = AttemptEnd.Returned, ResultJson = resultBlob is null ? result : null, ResultBlob = resultBlob };
        }
        catch (TimeoutException)
        {
            // The attempt's time is up: the container may be stuck in user code, so it goes (inputs running beside it
            // crash and are retried).
            LogTimedOut(logger, input.Describe, input.Attempt, input.Timeout.TotalSeconds);
            await pool.RemoveAsync(container, StopReasons.TimedOut);
            return AttemptOutcome.TimedOut;
        }
        catch (OperationCanceledException) when (call.Cancelled.IsCancellationRequested)
        {
            // The caller cancelled: the Api recorded it; the function was told through its cancellation token.
            if (call.TerminateContainer)
            {
                await pool.RemoveAsync(container, StopReasons.Cancelled);
            }
            return AttemptOutcome.Cancelled;
        }
        catch (ContainerCrashedException crash)
        {
            var outOfMemory = starter.DescribeOutOfMemory(entry, container);
            await pool.RemoveAsync(container, outOfMemory is null ? StopReasons.Crashed : StopReasons.OutOfMemory);
            // Out of memory is deterministic for this input (a redelivery would run out again): it fails, retried by the
            // function's policy, rather than crash its way through redeliveries.
            return outOfMemory is null ? AttemptOutcome.Crashed(crash.Message) : AttemptOutcome.Failed(ContainerOutOfMemoryException.RemoteType, outOfMemory);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Input} attempt {Attempt} ran past its timeout of {Seconds} s; its container is killed")]
    private static partial void LogTimedOut(ILogger logger, string input, int attempt, double seconds);
}
