using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Calls;
using Modal.Contracts.Calls;

namespace Modal.Api.Calls;

/// <summary>A queued call: its id, and the watch for its end when one was asked for (dispose it).</summary>
public sealed record SubmittedCall(string FunctionCallId, CallStore.CallWatch? Watch);

/// <summary>
/// Queues one input of a resolved function (arguments already checked): the call path every caller shares — the REST
/// <c>POST …/calls</c> and the web ingress's web functions — so queueing with confirms, retries, autoscaling on the
/// backlog, per-call logs and events apply to all of them alike.
/// </summary>
public sealed class CallSubmitter(CallStore calls, ISendEndpointProvider sendEndpoints, IPublishEndpoint events, TimeProvider clock)
{
    /// <summary>
    /// Records the call, queues its input and publishes <see cref="FunctionCallQueued"/> (confirmed by the broker
    /// together). With <paramref name="watch"/> the call's end is watched from before the input is sent, so a fast
    /// runner's result cannot slip past the caller. Answers a 503 problem when the broker did not confirm the input.
    /// The call's <c>origin</c> (<see cref="CallOrigins"/>) says what made it; <c>callId</c> is the id a caller chose
    /// (a schedule's firing), null for a new one.
    /// </summary>
    public async Task<(SubmittedCall? Call, ProblemHttpResult? Problem)> SubmitAsync(
        Guid workspaceId, CallTarget target, string functionName, string argumentsJson, string? argumentsBlob, bool watch,
        CancellationToken cancellationToken, string origin = CallOrigins.Api, string? callId = null)
    {
        callId ??= $"fc-{Guid.CreateVersion7():N}";
        var now = clock.GetUtcNow();
        // Recorded before the input is sent: a fast runner's result must find the call to complete.
        await calls.CreateAsync(callId, workspaceId, target.FunctionId, now, origin);
        // Watched before the input is sent: a fast runner's result cannot slip past a waiting caller.
        var end = watch ? await calls.WatchAsync(callId) : null;
        var queued = new FunctionCallQueued
        {
            FunctionCallId = callId, FunctionId = target.FunctionId, WorkspaceId = workspaceId, QueuedAt = now, Origin = origin,
        };
        try
        {
            var queue = await sendEndpoints.GetSendEndpoint(new Uri($"queue:{FunctionQueues.NameFor(target.FunctionId)}"));
            // The input and its Queued event are confirmed by the broker together, not one after the other.
            await Task.WhenAll(
                queue.Send(new RunFunction
                {
                    FunctionCallId = callId,
                    FunctionId = target.FunctionId,
                    WorkspaceId = workspaceId,
                    AppName = target.AppName,
                    FunctionName = functionName,
                    BundleId = target.BundleId,
                    ArgumentsJson = argumentsJson,
                    ArgumentsBlob = argumentsBlob,
                    Attempt = 1,
                    Timeout = target.Signature.Timeout,
                    QueuedAt = now,
                }, cancellationToken),
                events.Publish(queued, cancellationToken));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (end is not null)
            {
                await end.DisposeAsync();
            }
            await calls.CompleteAsync(callId, CallStates.Failed, exceptionType: RemoteErrorTypes.QueueUnavailable,
                message: "The input could not be queued: the message broker did not confirm it.");
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Input not queued",
                detail: "The message broker did not confirm the input; nothing will run. Try again shortly."));
        }
        catch
        {
            if (end is not null)
            {
                await end.DisposeAsync();
            }
            throw;
        }
        return (new SubmittedCall(callId, end), null);
    }
}
