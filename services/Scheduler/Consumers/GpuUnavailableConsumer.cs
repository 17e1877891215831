using MassTransit;
using Modal.Api.Contracts;
using Modal.Contracts.Calls;
using Modal.Contracts.Maps;
using Modal.Scheduler.Autoscaling;

namespace Modal.Scheduler.Consumers;

/// <summary>
/// Fails the inputs of a function whose GPU type no runner has (<see cref="ScalingState.GpuUnavailableReason"/>) the way
/// a runner fails an input: a <see cref="FunctionCallFailed"/> (or a map output) of type
/// <see cref="RemoteErrorTypes.GpuUnavailable"/>, which the Api records and hands to whoever waits for the call. It runs
/// on the function's own queue, connected by <see cref="Placement.GpuUnavailableInputs"/> only while that holds; an input
/// taken just as a runner with the type appeared goes back to the queue for it.
/// </summary>
public sealed class GpuUnavailableConsumer(ScalingState state, ScalingLoop loop, TimeProvider clock) : IConsumer<RunFunction>, IConsumer<RunMapInputs>
{
    public async Task Consume(ConsumeContext<RunFunction> context)
    {
        var input = context.Message;
        if (await ReasonOrRequeueAsync(context, input.FunctionId) is not { } reason)
        {
            return;
        }
        await context.Publish(new FunctionCallFailed
        {
            FunctionCallId = input.FunctionCallId, Attempt = input.Attempt, ExceptionType = RemoteErrorTypes.GpuUnavailable,
            Message = reason, StackTrace = "", WillRetry = false, FailedAt = clock.GetUtcNow(),
        });
    }

    public async Task Consume(ConsumeContext<RunMapInputs> context)
    {
        var slice = context.Message;
        if (await ReasonOrRequeueAsync(context, slice.FunctionId) is not { } reason)
        {
            return;
        }
        await context.Publish(new MapOutputsProduced
        {
            MapId = slice.MapId, RunnerId = "scheduler",
            Outputs = [.. slice.Inputs.Select(input => new MapOutput
            {
                Index = input.Index, Attempt = input.Attempt, Succeeded = false, ExceptionType = RemoteErrorTypes.GpuUnavailable,
                Message = reason, StackTrace = "",
            })],
        });
    }

    /// <summary>Why the input fails; null, with the input sent back to its queue, when a runner with its GPU type has appeared.</summary>
    private async Task<string?> ReasonOrRequeueAsync<T>(ConsumeContext<T> context, Guid functionId) where T : class
    {
        if (state.GpuUnavailableReason(functionId) is { } reason)
        {
            return reason;
        }
        var queue = await context.GetSendEndpoint(new Uri($"queue:{FunctionQueues.NameFor(functionId)}"));
        await queue.Send(context.Message, context.CancellationToken);
        loop.Wake(); // A round now lets go of the queue and places the function's containers.
        return null;
    }
}
