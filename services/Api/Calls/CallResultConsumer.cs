using MassTransit;
using Modal.Api.Infrastructure;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Calls;
using Modal.Contracts.Calls;

namespace Modal.Api.Calls;

/// <summary>
/// Records what runners report about calls. Only the first terminal event of a call counts: a redelivered input
/// that ran twice, or a timeout that races a success, cannot change a recorded result.
/// </summary>
public sealed class CallResultConsumer(CallStore calls) :
    IConsumer<FunctionCallStarted>,
    IConsumer<FunctionCallSucceeded>,
    IConsumer<FunctionCallFailed>,
    IConsumer<FunctionCallTimedOut>
{
    public Task Consume(ConsumeContext<FunctionCallStarted> context) => calls.MarkRunningAsync(context.Message.FunctionCallId);

    public Task Consume(ConsumeContext<FunctionCallSucceeded> context) =>
        calls.CompleteAsync(context.Message.FunctionCallId, CallStates.Succeeded, resultJson: context.Message.ResultJson,
            resultBlob: context.Message.ResultBlob);

    public Task Consume(ConsumeContext<FunctionCallFailed> context)
    {
        var failed = context.Message;
        return failed.WillRetry
            ? Task.CompletedTask
            : calls.CompleteAsync(failed.FunctionCallId, CallStates.Failed, exceptionType: failed.ExceptionType,
                message: failed.Message, stackTrace: failed.StackTrace);
    }

    public Task Consume(ConsumeContext<FunctionCallTimedOut> context)
    {
        var timedOut = context.Message;
        return timedOut.WillRetry
            ? Task.CompletedTask
            : calls.CompleteAsync(timedOut.FunctionCallId, CallStates.TimedOut, exceptionType: RemoteErrorTypes.FunctionTimeout,
                message: $"The function ran past its timeout of {timedOut.Timeout.TotalSeconds:0.###} s (attempt {timedOut.Attempt}).");
    }
}

public sealed class CallResultConsumerDefinition : ConsumerDefinition<CallResultConsumer>
{
    public CallResultConsumerDefinition() => EndpointName = "api-call-results";

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<CallResultConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Redis hiccups are brief; a result must not be dropped, so retry before the message goes to _error.
        endpointConfigurator.UseMessageRetry(retry => retry.Exponential(10, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200)));
    }
}

/// <summary>Appends the lines runners ship for a call to its log, and to its app's log.</summary>
public sealed class CallLogConsumer(CallStore calls, Apps.AppLogStore appLogs) : IConsumer<FunctionCallLogged>
{
    public async Task Consume(ConsumeContext<FunctionCallLogged> context)
    {
        var logged = context.Message;
        await calls.AppendLogsAsync(logged.FunctionCallId, logged.Lines.Select(line => new CallLogLine(logged.Attempt, line.Stream, line.Text, line.At)));
        if (logged.AppId is { } appId)
        {
            await appLogs.AppendAsync(appId, logged.FunctionName ?? "", logged.FunctionCallId, logged.Attempt, logged.Lines);
        }
    }
}

public sealed class CallLogConsumerDefinition : ConsumerDefinition<CallLogConsumer>
{
    // Apart from results, so a chatty function's logs never delay another call's result. One at a time keeps batches in order.
    public CallLogConsumerDefinition()
    {
        EndpointName = "api-call-logs";
        ConcurrentMessageLimit = 1;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<CallLogConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        endpointConfigurator.UseStoreHiccupRetry();
}
