using System.Security.Claims;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Modal.Api.Authentication;
using Modal.Api.Calls;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Calls;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;
using Modal.Contracts.Calls;

namespace Modal.Api.Endpoints;

public static class CallEndpoints
{
    public static RouteGroupBuilder MapCallEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapPost("/apps/{app}/functions/{function}/calls", CreateCallAsync).WithName("CreateCall").WithTags("Calls");
        var calls = v1.MapGroup("/calls").WithTags("Calls");
        calls.MapGet("/{id}", GetCallAsync).WithName("GetCall");
        calls.MapDelete("/{id}", CancelCallAsync).WithName("CancelCall");
        calls.MapGet("/{id}/logs", GetCallLogsAsync).WithName("GetCallLogs");
        return v1;
    }

    /// <summary>
    /// Queues one input of the function and answers 202 with the call's id and state. With <c>wait</c> (seconds, at
    /// most 50) it first waits that long for the call to finish and answers 200 with its result if it did, so a
    /// synchronous call (<c>RemoteAsync</c>) takes one request instead of two.
    /// </summary>
    public static async Task<Results<Ok<CallInfo>, Accepted<CallInfo>, ProblemHttpResult, ValidationProblem>> CreateCallAsync(
        string app, string function, CreateCallRequest request, ClaimsPrincipal caller, ApiDbContext db, CallTargets targets,
        PayloadBlobs blobs, CallSubmitter submitter, CancellationToken cancellationToken,
        double wait = 0)
    {
        if (wait is < 0 or > ApiLimits.MaxLongPollSeconds || double.IsNaN(wait))
        {
            return InvalidWait("wait");
        }
        var workspaceId = caller.WorkspaceId();
        var (target, notFound) = await targets.ResolveAsync(db, workspaceId, app, function, cancellationToken);
        if (target is null)
        {
            return notFound!;
        }

        var signature = target.Signature;
        var argumentsJson = "";
        if (request.ArgumentsBlob is { } blob)
        {
            // Blob-backed arguments are bound (and any mismatch reported) by the container, as for types JSON kinds cannot settle.
            if (await BlobArgumentsProblemAsync(workspaceId, blob, blobs, cancellationToken) is { } problem)
            {
                return problem;
            }
        }
        else
        {
            argumentsJson = request.Arguments.ValueKind == JsonValueKind.Undefined ? "{}" : request.Arguments.GetRawText();
            var size = Encoding.UTF8.GetByteCount(argumentsJson);
            if (size > ApiLimits.MaxInlinePayloadBytes)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Arguments too large to inline",
                    detail: $"The arguments are {size:N0} bytes; inline arguments are limited to {ApiLimits.MaxInlinePayloadBytes:N0} bytes. " +
                        "Upload larger arguments as a blob (PUT /v1/blobs/{sha256} of the JSON) and send {\"argumentsBlob\": \"<sha256>\"}; " +
                        "the SDK does this by itself.");
            }
            if (ArgumentErrors(signature, request.Arguments) is { Count: > 0 } errors)
            {
                return TypedResults.ValidationProblem(errors, title: $"Arguments do not match {app}.{function}");
            }
        }

        var (call, notQueued) = await submitter.SubmitAsync(workspaceId, target, function, argumentsJson, request.ArgumentsBlob, watch: wait > 0,
            cancellationToken);
        if (call is null)
        {
            return notQueued!;
        }
        await using var watch = call.Watch;
        var callId = call.FunctionCallId;
        if (watch is not null && await watch.WaitAsync(TimeSpan.FromSeconds(wait), cancellationToken) is { IsTerminal: true } finished)
        {
            return TypedResults.Ok(ToResponse(finished));
        }
        return TypedResults.Accepted($"/v1/calls/{callId}", new CallInfo(callId, CallStates.Queued, null, null));
    }

    /// <summary>
    /// The call's state: 200 with the result or error once it finished, 202 while it runs. With <c>timeout</c>
    /// (seconds, at most 50) the request waits for the end that long first; 0 looks once.
    /// </summary>
    public static async Task<Results<Ok<CallInfo>, Accepted<CallInfo>, ProblemHttpResult>> GetCallAsync(
        string id, ClaimsPrincipal caller, CallStore calls, CancellationToken cancellationToken, double timeout = 0)
    {
        if (timeout is < 0 or > ApiLimits.MaxLongPollSeconds || double.IsNaN(timeout))
        {
            return InvalidWait("timeout");
        }

        var call = await calls.WaitAsync(id, TimeSpan.FromSeconds(timeout), cancellationToken);
        if (call is null || call.WorkspaceId != caller.WorkspaceId())
        {
            return CallNotFound(id);
        }

        var response = ToResponse(call);
        return call.IsTerminal ? TypedResults.Ok(response) : TypedResults.Accepted($"/v1/calls/{id}", response);
    }

    /// <summary>
    /// Cancels a call that has not finished (a finished call keeps its result): an input still queued never runs; a
    /// running one is told through its cancellation token, and with <c>terminateContainers</c> its container is stopped.
    /// </summary>
    public static async Task<Results<Ok<CallInfo>, ProblemHttpResult>> CancelCallAsync(
        string id, ClaimsPrincipal caller, CallStore calls, IPublishEndpoint events, TimeProvider clock, CancellationToken cancellationToken,
        bool terminateContainers = false)
    {
        var call = await calls.GetAsync(id);
        if (call is null || call.WorkspaceId != caller.WorkspaceId())
        {
            return CallNotFound(id);
        }
        if (await calls.CompleteAsync(id, CallStates.Cancelled, exceptionType: RemoteErrorTypes.FunctionCallCancelled, message: "The call was cancelled."))
        {
            await events.Publish(new FunctionCallCancelled { FunctionCallId = id, CancelledAt = clock.GetUtcNow(), TerminateContainers = terminateContainers },
                cancellationToken);
        }
        return TypedResults.Ok(ToResponse((await calls.GetAsync(id))!));
    }

    /// <summary>Most log lines one request returns; ask again from <c>next</c> for more.</summary>
    public const int MaxLogLinesPerRequest = 1_000;

    /// <summary>
    /// The lines the call printed (every attempt, stdout and stderr, in order) from position <c>from</c>; <c>next</c>
    /// is where the following request starts, so a client can follow a running call's logs.
    /// </summary>
    public static async Task<Results<Ok<CallLogs>, ProblemHttpResult>> GetCallLogsAsync(
        string id, ClaimsPrincipal caller, CallStore calls, CancellationToken cancellationToken, long from = 0)
    {
        if (from < 0)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid position",
                detail: "from is the index of the first line wanted, 0 or more.");
        }
        var call = await calls.GetAsync(id);
        if (call is null || call.WorkspaceId != caller.WorkspaceId())
        {
            return CallNotFound(id);
        }
        var lines = await calls.GetLogsAsync(id, from, MaxLogLinesPerRequest);
        return TypedResults.Ok(new CallLogs(id, lines, from + lines.Count));
    }

    internal static async Task<ProblemHttpResult?> BlobArgumentsProblemAsync(Guid workspaceId, string blob, PayloadBlobs blobs, CancellationToken cancellationToken)
    {
        if (!PayloadBlobs.IsBlobId(blob))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid argumentsBlob",
                detail: $"'{blob}' is not a blob id: argumentsBlob is the SHA-256 (lowercase hex) of the uploaded arguments JSON.");
        }
        var size = await blobs.SizeAsync(workspaceId, blob, cancellationToken);
        if (size is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Arguments blob not found",
                detail: $"No blob '{blob}' is stored for this workspace: upload the arguments JSON with PUT /v1/blobs/{blob} first.");
        }
        return size > ApiLimits.MaxBlobPayloadBytes
            ? TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Arguments too large",
                detail: $"The arguments are {size:N0} bytes; a call's arguments are limited to {ApiLimits.MaxBlobPayloadBytes:N0} bytes. " +
                    "Pass large data through a Volume instead.")
            : null;
    }

    internal static Dictionary<string, string[]> ArgumentErrors(FunctionSignature signature, JsonElement arguments)
    {
        var errors = new Dictionary<string, string[]>();
        if (arguments.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined))
        {
            errors["arguments"] = ["Arguments are a JSON object keyed by parameter name."];
            return errors;
        }
        foreach (var parameter in signature.Parameters)
        {
            if (arguments.ValueKind != JsonValueKind.Object || !arguments.TryGetProperty(parameter.Name, out var value))
            {
                errors[parameter.Name] = [$"Missing argument '{parameter.Name}' ({parameter.Type})."];
            }
            else if (!parameter.Accepts(value))
            {
                errors[parameter.Name] = [$"Argument '{parameter.Name}' must be a {parameter.Type}, not a JSON {value.ValueKind}."];
            }
        }
        if (arguments.ValueKind == JsonValueKind.Object)
        {
            foreach (var extra in arguments.EnumerateObject().Where(a => signature.Parameters.All(p => p.Name != a.Name)))
            {
                errors[extra.Name] = [$"'{signature.Name}' has no parameter named '{extra.Name}'."];
            }
        }
        return errors;
    }

    private static CallInfo ToResponse(CallRecord call)
    {
        JsonElement? result = call.State == CallStates.Succeeded && call.ResultBlob is null && call.ResultJson is { } json
            ? JsonDocument.Parse(json).RootElement.Clone()
            : null;
        var error = call.ExceptionType is { } type ? new CallErrorInfo(type, call.ExceptionMessage ?? "", call.ExceptionStackTrace) : null;
        return new CallInfo(call.FunctionCallId, call.State, result, error, call.ResultBlob, call.Origin);
    }

    /// <summary>The problem for a wait outside 0..<see cref="ApiLimits.MaxLongPollSeconds"/>, naming the parameter.</summary>
    internal static ProblemHttpResult InvalidWait(string parameter) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: $"Invalid {parameter}",
            detail: $"{parameter} is in seconds, from 0 (do not wait) to {ApiLimits.MaxLongPollSeconds}; wait longer by asking again with GET /v1/calls/{{id}}?timeout=.");

    private static ProblemHttpResult CallNotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Call not found",
            detail: $"No call '{id}' is known in this workspace (call state is kept for a limited time).");
}
