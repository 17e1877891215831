using MassTransit;
using Modal.Container.Protocol;
using Modal.Contracts.Calls;
using Modal.Contracts.Maps;
using Modal.GpuRunner.Calls;
using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Secrets;

namespace Modal.GpuRunner.Consumers;

/// <summary>
/// Runs a slice of a map's inputs, each in a free slot of one of the function's containers here (inputs beyond the free
/// slots wait their turn), and reports
/// their outputs as they finish (batched across slices by <see cref="MapOutputPublisher"/>). A failed or timed-out input is retried by the function's policy (sent
/// back with its next attempt); an input whose container crashed is retried likewise. The slice is acknowledged
/// once every input has an output or a retry queued, so a runner that dies mid-slice has the whole slice run again
/// elsewhere (the Api keeps each input's first output).
/// </summary>
public sealed partial class RunMapInputsConsumer(
    FunctionCatalog catalog, ContainerPool pool, RunningCalls runningCalls, CallLogShipper logs, PayloadBlobs payloads,
    MapOutputPublisher publisher, TimeProvider clock, ILogger<RunMapInputsConsumer> logger)
    : IConsumer<RunMapInputs>
{
    public async Task Consume(ConsumeContext<RunMapInputs> context)
    {
        var slice = context.Message;
        var outputs = new SliceOutputs(publisher, slice.MapId);
        try
        {
            if (catalog.Find(slice.FunctionId) is not { } entry)
            {
                foreach (var input in slice.Inputs)
                {
                    outputs.Add(Failed(input, "Modal.AppStopped", $"App '{slice.AppName}' was stopped before this input of '{slice.FunctionName}' ran."));
                }
                return;
            }
            if (runningCalls.Start(slice.MapId) is not { } call)
            {
                return; // The map was cancelled: its remaining inputs never run.
            }
            try
            {
                await RunSliceAsync(context, entry, call, outputs);
            }
            finally
            {
                runningCalls.Finish(slice.MapId, call);
            }
        }
        finally
        {
            await outputs.CompleteAsync();
        }
    }

    private async Task RunSliceAsync(ConsumeContext<RunMapInputs> context, CatalogEntry entry, RunningCall call, SliceOutputs outputs)
    {
        var slice = context.Message;
        var function = entry.Function;
        var log = logs.Open(slice.MapId, 1, entry.AppId, function.Name);
        var retries = new List<MapInput>();
        try
        {
            // Every input of the slice at once, each waiting its turn for a container slot (the pool hands slots out
            // oldest first): inputs sent together reach the container in one write and their outputs come back together,
            // so the wake-ups of the runner and the container are shared by the slice rather than paid per input.
            await Task.WhenAll(slice.Inputs.Select(async input =>
            {
                if (call.Cancelled.IsCancellationRequested || runningCalls.IsCancelled(slice.MapId))
                {
                    return;
                }
                var (output, retry) = await RunInputAsync(context, entry, input, call, log, context.CancellationToken);
                if (output is not null)
                {
                    outputs.Add(output);
                }
                if (retry is not null)
                {
                    lock (retries)
                    {
                        retries.Add(retry);
                    }
                }
            }));
        }
        finally
        {
            await logs.CloseAsync(slice.MapId, 1);
        }
        // Retries of the same attempt wait one backoff together and go back to the queue as one slice.
        foreach (var sameAttempt in retries.GroupBy(retry => retry.Attempt).OrderBy(group => group.Key))
        {
            await SendRetriesAsync(context, entry, sameAttempt.Key, sameAttempt.ToList());
        }
    }

    /// <summary>Runs one input: its final output, or the next attempt to queue.</summary>
    private async Task<(MapOutput? Output, MapInput? Retry)> RunInputAsync(
        ConsumeContext<RunMapInputs> context, CatalogEntry entry, MapInput input, RunningCall call, Action<string, string> log,
        CancellationToken cancellationToken)
    {
        var slice = context.Message;
        var function = entry.Function;
        var willRetry = input.Attempt <= function.MaxRetries;
        // A free slot of one of this runner's containers of the function (as for single calls).
        using var lease = await pool.AcquireAsync(entry, cancellationToken);
        if (lease is null)
        {
            return (null, input); // Its last container here stopped meanwhile: the input goes back to the queue as it is.
        }
        ContainerProcess container;
        try
        {
            container = lease.Process;
        }
        catch (ContainerStartException failed) when (failed.InnerException is ContainerSecretsException missing)
        {
            return (Failed(input, ContainerSecretsException.RemoteType, $"Function '{function.Name}' cannot start: {missing.Message}"), null);
        }
        catch (ContainerStartException failed) when (failed.InnerException is ContainerOutOfMemoryException outOfMemory)
        {
            return (Failed(input, ContainerOutOfMemoryException.RemoteType, outOfMemory.Message), null);
        }
        catch (ContainerStartException failed)
        {
            return (Failed(input, "Modal.ContainerCrashedException", $"Function '{function.Name}' cannot start: {failed.Message}"), null);
        }

        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.Cancelled);
        try
        {
            var arguments = input.ArgumentsBlob is { } blob ? await payloads.ReadAsync(blob, cancellation.Token) : input.ArgumentsJson;
            var frame = await container.InvokeAsync(function.Name, arguments, slice.MapId, log, cancellation.Token)
                .WaitAsync(slice.Timeout, clock, cancellation.Token);
            if (frame.Succeeded)
            {
                var result = frame.ResultJson ?? "null";
                var resultBlob = PayloadBlobs.FitsInline(result) ? null : await payloads.WriteAsync(result, cancellationToken);
                return (new MapOutput
                {
                    Index = input.Index, Attempt = input.Attempt, Succeeded = true, ResultJson = resultBlob is null ? result : null, ResultBlob = resultBlob,
                }, null);
            }
            return willRetry
                ? (null, input with { Attempt = input.Attempt + 1 })
                : (Failed(input, frame.ExceptionType ?? "Unknown", frame.Message ?? "", frame.StackTrace), null);
        }
        catch (TimeoutException)
        {
            // Stuck in user code: the container goes (inputs running beside it crash and are retried).
            LogTimedOut(logger, slice.MapId, input.Index, input.Attempt, slice.Timeout.TotalSeconds);
            await pool.RemoveAsync(container, StopReasons.TimedOut);
            return willRetry
                ? (null, input with { Attempt = input.Attempt + 1 })
                : (Failed(input, "Modal.FunctionTimeoutException",
                    $"The function ran past its timeout of {slice.Timeout.TotalSeconds:0.###} s (attempt {input.Attempt})."), null);
        }
        catch (OperationCanceledException) when (call.Cancelled.IsCancellationRequested)
        {
            if (call.TerminateContainer)
            {
                await pool.RemoveAsync(container, StopReasons.Cancelled);
            }
            return (null, null);
        }
        catch (ContainerCrashedException crash)
        {
            var outOfMemory = pool.DescribeOutOfMemory(entry, container);
            await pool.RemoveAsync(container, outOfMemory is null ? StopReasons.Crashed : StopReasons.OutOfMemory);
            return outOfMemory is null
                ? CrashedOrRetry(input, function, crash)
                : (Failed(input, ContainerOutOfMemoryException.RemoteType, outOfMemory), null);
        }
    }

    /// <summary>A crash is retried like a failure, and at least <see cref="RunFunctionConsumer.CrashRedeliveries"/> times.</summary>
    private static (MapOutput?, MapInput?) CrashedOrRetry(MapInput input, Contracts.Apps.DeployedFunctionSpec function, ContainerCrashedException crash) =>
        input.Attempt <= Math.Max(function.MaxRetries, RunFunctionConsumer.CrashRedeliveries)
            ? (null, input with { Attempt = input.Attempt + 1 })
            : (Failed(input, "Modal.ContainerCrashedException", crash.Message), null);

    private async Task SendRetriesAsync(ConsumeContext<RunMapInputs> context, CatalogEntry entry, int attempt, List<MapInput> retries)
    {
        var function = entry.Function;
        var seconds = function.InitialDelay.TotalSeconds * Math.Pow(function.BackoffCoefficient, attempt - 2);
        var delay = function.MaxRetries == 0 || attempt <= 1 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(seconds, function.MaxDelay.TotalSeconds));
        await Task.Delay(delay, clock, context.CancellationToken);
        var queue = await context.GetSendEndpoint(new Uri($"queue:{FunctionQueues.NameFor(context.Message.FunctionId)}"));
        await queue.Send(context.Message with { Inputs = retries }, context.CancellationToken);
    }

    private static MapOutput Failed(MapInput input, string type, string message, string? stackTrace = null) => new()
    {
        Index = input.Index, Attempt = input.Attempt, Succeeded = false, ExceptionType = type, Message = message, StackTrace = stackTrace ?? "",
    };

    /// <summary>A slice's outputs, handed to the runner-wide publisher as they come; the slice completes once all are published.</summary>
    private sealed class SliceOutputs(MapOutputPublisher publisher, string mapId)
    {
        private readonly List<Task> _published = [];

        public void Add(MapOutput output)
        {
            var published = publisher.PublishAsync(mapId, output);
            lock (_published)
            {
                _published.Add(published);
            }
        }

        public Task CompleteAsync()
        {
            lock (_published)
            {
                return Task.WhenAll(_published);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Map {MapId} input {Index} attempt {Attempt} ran past its timeout of {Seconds} s; its container is killed")]
    private static partial void LogTimedOut(ILogger logger, string mapId, long index, int attempt, double seconds);
}
