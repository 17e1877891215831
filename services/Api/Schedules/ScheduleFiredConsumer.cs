using MassTransit;
using Modal.Api.Calls;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Calls;
using Modal.Api.Infrastructure;
using Modal.Contracts.Schedules;

namespace Modal.Api.Schedules;

/// <summary>
/// Turns a schedule's firing into a call of the function with no arguments, through the call path every call takes
/// (queue, retries, autoscaling, logs, events), under the id the firing chose, so each tick makes one call.
/// </summary>
public sealed partial class ScheduleFiredConsumer(
    ApiDbContext db, CallTargets targets, CallSubmitter submitter, CallStore calls, ScheduleFirings firings, ILogger<ScheduleFiredConsumer> logger)
    : IConsumer<ScheduleFired>
{
    public async Task Consume(ConsumeContext<ScheduleFired> context)
    {
        var fired = context.Message;
        var (target, _) = await targets.ResolveAsync(db, fired.WorkspaceId, AppIds.Format(fired.AppId), fired.FunctionName, context.CancellationToken);
        if (target is null || target.FunctionId != fired.FunctionId || target.Signature.Schedule is null)
        {
            // Stopped or redeployed without it between the firing and now: the Scheduler drops the schedule too.
            LogDropped(logger, fired.FunctionName, fired.ScheduledAt);
            return;
        }
        if (!await firings.ClaimAsync(fired.FunctionCallId) && await MadeByAnotherDeliveryAsync(fired.FunctionCallId, context.CancellationToken))
        {
            LogAgain(logger, fired.FunctionCallId, fired.ScheduledAt);
            return;
        }
        SubmittedCall? call;
        Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? notQueued;
        try
        {
            (call, notQueued) = await submitter.SubmitAsync(fired.WorkspaceId, target, fired.FunctionName, "{}", argumentsBlob: null, watch: false,
                context.CancellationToken, origin: CallOrigins.Schedule, callId: fired.FunctionCallId);
        }
        catch
        {
            // Not made (a store failed): the retry, or a later delivery, must be free to make it.
            await firings.ReleaseAsync(fired.FunctionCallId);
            throw;
        }
        // Recorded either way: a firing the broker refused shows as its failed call, not as nothing.
        await firings.RecordAsync(fired.FunctionId, new ScheduleFiring(fired.FunctionCallId, fired.ScheduledAt));
        if (call is null)
        {
            LogNotQueued(logger, fired.FunctionCallId, fired.FunctionName, notQueued?.ProblemDetails.Detail);
        }
    }

    // The tick is claimed: normally the delivery that claimed it has made its call (a redelivery, or the same tick fired
    // twice in a failover). One that died between its claim and the call left nothing: after a moment's grace this one
    // makes it, so a firing is made at least once rather than lost (a call's result is recorded once either way).
    private async Task<bool> MadeByAnotherDeliveryAsync(string callId, CancellationToken cancellationToken)
    {
        if (await calls.GetAsync(callId) is not null)
        {
            return true;
        }
        await Task.Delay(ClaimGrace, cancellationToken);
        return await calls.GetAsync(callId) is not null;
    }

    private static readonly TimeSpan ClaimGrace = TimeSpan.FromSeconds(2);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped a firing of '{Function}' for {ScheduledAt}: the function is no longer scheduled")]
    private static partial void LogDropped(ILogger logger, string function, DateTimeOffset scheduledAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Firing {CallId} for {ScheduledAt} arrived again; its call exists")]
    private static partial void LogAgain(ILogger logger, string callId, DateTimeOffset scheduledAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The call {CallId} of '{Function}''s schedule was not queued: {Detail}")]
    private static partial void LogNotQueued(ILogger logger, string callId, string function, string? detail);
}

/// <summary>One shared queue for all Api replicas: each firing is handled once, retried on a store's hiccup.</summary>
public sealed class ScheduleFiredConsumerDefinition : ConsumerDefinition<ScheduleFiredConsumer>
{
    public ScheduleFiredConsumerDefinition()
    {
        EndpointName = "api-schedule-fired";
        ConcurrentMessageLimit = 16;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<ScheduleFiredConsumer> consumerConfigurator,
        IRegistrationContext context) =>
        endpointConfigurator.UseStoreHiccupRetry();
}
