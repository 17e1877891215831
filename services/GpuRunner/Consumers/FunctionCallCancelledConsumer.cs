using MassTransit;
using Modal.Contracts.Calls;
using Modal.GpuRunner.Calls;

namespace Modal.GpuRunner.Consumers;

/// <summary>A caller cancelled a call: tell its input here if it runs here, and skip it if it is still queued.</summary>
public sealed class FunctionCallCancelledConsumer(RunningCalls runningCalls) : IConsumer<FunctionCallCancelled>
{
    public Task Consume(ConsumeContext<FunctionCallCancelled> context)
    {
        runningCalls.Cancel(context.Message.FunctionCallId, context.Message.TerminateContainers);
        return Task.CompletedTask;
    }
}

public sealed class FunctionCallCancelledConsumerDefinition(Microsoft.Extensions.Options.IOptions<GpuRunnerOptions> options)
    : RunnerControlDefinition<FunctionCallCancelledConsumer>(options, "cancellations");
