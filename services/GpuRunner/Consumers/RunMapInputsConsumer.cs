using MassTransit;
using Modal.Contracts.Calls;
using Modal.Contracts.Maps;
using Modal.GpuRunner.Calls;
using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Infrastructure;

namespace Modal.GpuRunner.Consumers;

/// <summary>
/// Runs a slice of a map's inputs, each in a free slot of one of the function's containers here (inputs beyond the free
/// slots wait their turn), and reports their outputs as they finish (batched across slices by
/// <see cref="MapOutputPublisher"/>). A failed or timed-out input is retried by the function's policy
/// (<see cref="RetryPolicy"/>: sent back with its next attempt after the backoff, waited with no container slot held); an
/// input whose container crashed is retried likewise. The slice is acknowledged
/// once every input has an output or a retry queued, so a runner that dies mid-slice has the whole slice run again
/// elsewhere (the Api keeps each input's first output).
/// </summary>
public sealed class RunMapInputsConsumer(
    FunctionCatalog catalog, InputSlots slots, InputAttempts attempts, RunningCalls runningCalls, CallLogShipper logs,
    MapOutputPublisher publisher, DelayQueues delays)
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
                    outputs.Add(Failed(input, Modal.Api.Contracts.RemoteErrorTypes.AppStopped, $"App '{slice.AppName}' was stopped before this input of '{slice.FunctionName}' ran."));
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
        var requeued = new List<MapInput>();
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
                        (retry.Attempt == input.Attempt ? requeued : retries).Add(retry);
                    }
                }
            }));
        }
        finally
        {
            await logs.CloseAsync(slice.MapId, 1);
        }
        if (requeued.Count > 0)
        {
            await SendBackAsync(context, requeued, TimeSpan.Zero); // They did not run here: nothing to back off from.
        }
        // Retries of the same attempt wait one backoff together (in one delay queue) and go back to the queue as one slice.
        foreach (var sameAttempt in retries.GroupBy(retry => retry.Attempt).OrderBy(group => group.Key))
        {
            await SendBackAsync(context, sameAttempt.ToList(), RetryPolicy.DelayBeforeAttempt(entry.Function, sameAttempt.Key));
        }
    }

    /// <summary>Runs one input: its final output, or the next attempt to queue.</summary>
    private async Task<(MapOutput? Output, MapInput? Retry)> RunInputAsync(
        ConsumeContext<RunMapInputs> context, CatalogEntry entry, MapInput input, RunningCall call, Action<string, string> log,
        CancellationToken cancellationToken)
    {
        var slice = context.Message;
        var function = entry.Function;
        AttemptOutcome outcome;
        // A free slot of one of this runner's containers of the function (as for single calls), given back before any
        // retry's backoff.
        using (var lease = await slots.AcquireAsync(entry.ContainerGroup, cancellationToken))
        {
            if (lease is null)
            {
                return (null, input); // Its last container here stopped meanwhile: the input goes back to the queue as it is.
            }
            outcome = await attempts.RunAsync(entry, lease,
                new AttemptInput(slice.MapId, $"Map {slice.MapId} input {input.Index}", input.Attempt, input.ArgumentsJson, input.ArgumentsBlob, slice.Timeout),
                call, log, cancellationToken);
        }
        var next = input with { Attempt = input.Attempt + 1 };
        return outcome.End switch
        {
            AttemptEnd.Returned => (new MapOutput
            {
                Index = input.Index, Attempt = input.Attempt, Succeeded = true, ResultJson = outcome.ResultJson, ResultBlob = outcome.ResultBlob,
            }, null),
            AttemptEnd.Cancelled => (null, null),
            // A map input has no redelivery of its own: a crash is retried like a failure, and at least as often as a call's.
            AttemptEnd.Crashed => RetryPolicy.WillRetryCrash(function, input.Attempt) ? (null, next) : (Failed(input, outcome), null),
            AttemptEnd.TimedOut => RetryPolicy.WillRetry(function, input.Attempt)
                ? (null, next)
                : (Failed(input, Modal.Api.Contracts.RemoteErrorTypes.FunctionTimeout,
                    $"The function ran past its timeout of {slice.Timeout.TotalSeconds:0.###} s (attempt {input.Attempt})."), null),
            _ => RetryPolicy.WillRetry(function, input.Attempt) ? (null, next) : (Failed(input, outcome), null),
        };
    }

    /// <summary>Sends inputs back to the function's queue as one slice after <paramref name="delay"/> (waited on the broker).</summary>
    private Task SendBackAsync(ConsumeContext<RunMapInputs> context, List<MapInput> retries, TimeSpan delay) =>
        delays.SendAsync(context, context.Message.FunctionId, context.Message with { Inputs = retries }, delay, context.CancellationToken);

    private static MapOutput Failed(MapInput input, AttemptOutcome outcome) => Failed(input, outcome.ExceptionType, outcome.Message, outcome.StackTrace);

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
}
