using System.Text.Json;

namespace Modal.Container;

/// <summary>
/// Gathers a batched function's inputs (<see cref="Batching"/>) into batches inside its container: a batch runs when
/// it reaches the maximum size, or when the wait has passed since its first input, whichever comes first. Each input
/// gets its own output; a batch that throws fails every input in it. The batch runs in the first input's context, so
/// what it prints is that input's log.
/// </summary>
internal sealed class InputBatcher(FunctionDefinition function)
{
    private readonly Batching _batching = function.Batching ?? throw new ArgumentException($"'{function.Name}' is not batched.", nameof(function));
    private readonly object _gate = new();
    private List<PendingInput>? _filling;

    /// <summary>Adds one input (its wire arguments) to the batch being filled; completes with that input's outcome.</summary>
    public Task<FunctionOutcome> RunAsync(string argumentsJson, FunctionContext context)
    {
        object? value;
        try
        {
            using var arguments = JsonDocument.Parse(argumentsJson);
            value = function.BindArguments(arguments.RootElement, App.SerializerOptions)[0];
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            return Task.FromResult(new FunctionOutcome(null, e)); // A bad input fails alone, without joining a batch.
        }

        var pending = new PendingInput(value, context, new TaskCompletionSource<FunctionOutcome>(TaskCreationOptions.RunContinuationsAsynchronously));
        List<PendingInput>? full = null;
        lock (_gate)
        {
            if (_filling is null)
            {
                var batch = new List<PendingInput>(_batching.MaxBatchSize);
                _filling = batch;
                _ = Task.Delay(_batching.Wait).ContinueWith(_ => RunIfStillFilling(batch), TaskScheduler.Default);
            }
            _filling.Add(pending);
            if (_filling.Count >= _batching.MaxBatchSize)
            {
                full = _filling;
                _filling = null;
            }
        }
        if (full is not null)
        {
            _ = Task.Run(() => RunBatchAsync(full));
        }
        return pending.Outcome.Task;
    }

    /// <summary>The wait is over: the batch runs with what it has, unless it filled up and ran already.</summary>
    private void RunIfStillFilling(List<PendingInput> batch)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_filling, batch))
            {
                return;
            }
            _filling = null;
        }
        _ = Task.Run(() => RunBatchAsync(batch));
    }

    private async Task RunBatchAsync(List<PendingInput> batch)
    {
        FunctionContext.Enter(batch[0].Context);
        try
        {
            var results = await function.InvokeBatchAsync(batch.Select(input => input.Value).ToList()).ConfigureAwait(false);
            for (var i = 0; i < batch.Count; i++)
            {
                var json = JsonSerializer.Serialize(results[i], function.ResultType, App.SerializerOptions);
                batch[i].Outcome.TrySetResult(new FunctionOutcome(json, null));
            }
        }
        catch (Exception e)
        {
            foreach (var input in batch)
            {
                input.Outcome.TrySetResult(new FunctionOutcome(null, e));
            }
        }
    }

    private sealed record PendingInput(object? Value, FunctionContext Context, TaskCompletionSource<FunctionOutcome> Outcome);
}
