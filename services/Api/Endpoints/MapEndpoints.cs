using System.Security.Claims;
using Modal.Api.Contracts.Apps;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Modal.Api.Apps;
using Modal.Api.Authentication;
using Modal.Api.Calls;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Maps;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;
using Modal.Api.Maps;
using Modal.Contracts.Calls;
using Modal.Contracts.Maps;

namespace Modal.Api.Endpoints;

public static class MapEndpoints
{
    /// <summary>Most inputs one request may carry (Modal sends 49 per request; larger pages cost fewer round trips).</summary>
    public const int MaxInputsPerRequest = 1_000;

    /// <summary>Inputs of one map sent but without an output, beyond which more are refused (429) until outputs catch up.</summary>
    public const long MaxOutstandingInputs = 100_000;

    /// <summary>Most outputs one read returns.</summary>
    public const int MaxOutputsPerRequest = 1_000;

    /// <summary>Most inputs per bus message, and the payload past which a slice is closed early.</summary>
    public const int MaxInputsPerMessage = 64, MaxSliceBytes = 1024 * 1024;

    /// <summary>Containers assumed for a function without <c>MaxContainers</c> when slicing a page of inputs.</summary>
    public const int AssumedContainers = 32;

    public static RouteGroupBuilder MapMapEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapPost("/apps/{app}/functions/{function}/maps", CreateMapAsync).WithName("CreateMap").WithTags("Maps");
        v1.MapGet("/apps/{app}/maps", ListAppMapsAsync).WithName("ListAppMaps").WithTags("Maps");
        var maps = v1.MapGroup("/maps").WithTags("Maps");
        maps.MapGet("/{id}", GetMapAsync).WithName("GetMap");
        maps.MapPost("/{id}/inputs", PutInputsAsync).WithName("PutMapInputs");
        maps.MapPost("/{id}/close", CloseMapAsync).WithName("CloseMap");
        maps.MapGet("/{id}/outputs", GetOutputsAsync).WithName("GetMapOutputs");
        maps.MapDelete("/{id}", CancelMapAsync).WithName("CancelMap");
        return v1;
    }

    /// <summary>Whether <paramref name="path"/> is a map's input page or output read (<c>/v1/maps/{id}/inputs|outputs</c>): a map's bulk traffic.</summary>
    public static bool IsMapData(PathString path) =>
        path.StartsWithSegments("/v1/maps", out var rest)
        && (rest.Value?.EndsWith("/inputs", StringComparison.Ordinal) == true || rest.Value?.EndsWith("/outputs", StringComparison.Ordinal) == true);

    /// <summary>Starts a map of the function (no inputs yet), as Modal's <c>FunctionMap</c>.</summary>
    public static async Task<Results<Created<MapCreated>, ProblemHttpResult>> CreateMapAsync(
        string app, string function, ClaimsPrincipal caller, ApiDbContext db, CallTargets targets, MapStore maps, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var workspaceId = caller.WorkspaceId();
        var (target, notFound) = await targets.ResolveAsync(db, workspaceId, app, function, cancellationToken);
        if (target is null)
        {
            return notFound!;
        }
        var mapId = $"fc-{Guid.CreateVersion7():N}";
        await maps.CreateAsync(mapId, workspaceId, target.FunctionId, target.AppId, target.AppName, function, clock.GetUtcNow());
        return TypedResults.Created($"/v1/maps/{mapId}", new MapCreated(mapId, MaxInputsPerRequest, MaxOutstandingInputs));
    }

    /// <summary>
    /// Queues a page of the map's inputs, sliced into bus messages of several inputs each. Refused with 429 while the
    /// map has <see cref="MaxOutstandingInputs"/> inputs without output: back-pressure that bounds every queue behind it.
    /// </summary>
    public static async Task<Results<Accepted<MapInputsQueued>, ProblemHttpResult, ValidationProblem>> PutInputsAsync(
        string id, MapInputsRequest request, ClaimsPrincipal caller, ApiDbContext db, CallTargets targets, MapStore maps, PayloadBlobs blobs,
        ISendEndpointProvider sendEndpoints, TimeProvider clock, HttpResponse response, CancellationToken cancellationToken)
    {
        var map = await maps.GetAsync(id);
        if (map is null || map.WorkspaceId != caller.WorkspaceId())
        {
            return MapNotFound(id);
        }
        if (map.Cancelled)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Map cancelled",
                detail: $"Map '{id}' was cancelled; start a new map to run more inputs.");
        }
        if (request.Inputs is not { Count: > 0 and <= MaxInputsPerRequest } inputs)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid inputs",
                detail: $"Send between 1 and {MaxInputsPerRequest:N0} inputs per request (got {request.Inputs?.Count ?? 0}).");
        }
        if (map.Outstanding >= MaxOutstandingInputs)
        {
            response.Headers.RetryAfter = "1";
            return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many inputs in flight",
                detail: $"Map '{id}' has {map.Outstanding:N0} inputs without output (at most {MaxOutstandingInputs:N0}); read outputs, then send more.");
        }
        // By the app's id: a map stays with the app it started in, even if a deploy of the same name comes later.
        var (target, notFound) = await targets.ResolveAsync(db, map.WorkspaceId, AppIds.Format(map.AppId), map.FunctionName, cancellationToken);
        if (target is null)
        {
            return notFound!;
        }
        var (queued, problem) = await ToMapInputsAsync(map.WorkspaceId, inputs, target.Signature, blobs, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        if (queued is null)
        {
            return TypedResults.ValidationProblem(InputErrors(inputs, target.Signature), title: $"Inputs do not match {map.AppName}.{map.FunctionName}");
        }

        var queue = await sendEndpoints.GetSendEndpoint(new Uri($"queue:{FunctionQueues.NameFor(target.FunctionId)}"));
        var now = clock.GetUtcNow();
        try
        {
            await Task.WhenAll(Slices(queued, target.Signature).Select(slice => queue.Send(new RunMapInputs
            {
                MapId = id, FunctionId = target.FunctionId, WorkspaceId = map.WorkspaceId, AppName = map.AppName, FunctionName = map.FunctionName,
                BundleId = target.BundleId, Timeout = target.Signature.Timeout, QueuedAt = now, Inputs = slice,
            }, cancellationToken)));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Some slices may be queued: sending the page again is safe, as each input's first output is the only one kept.
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Inputs not queued",
                detail: "The message broker did not confirm every input of this page; send the page again.");
        }
        await maps.AddInputsAsync(id, queued.Count);
        return TypedResults.Accepted($"/v1/maps/{id}", new MapInputsQueued(queued.Count, map.Outstanding + queued.Count));
    }

    /// <summary>Records the map's total number of inputs: once that many outputs are in, the map is finished.</summary>
    public static async Task<Results<Ok<MapInfo>, ProblemHttpResult>> CloseMapAsync(
        string id, CloseMapRequest request, ClaimsPrincipal caller, MapStore maps)
    {
        var map = await maps.GetAsync(id);
        if (map is null || map.WorkspaceId != caller.WorkspaceId())
        {
            return MapNotFound(id);
        }
        if (request.Total is < 0 or > MapStore.MaxInputsPerMap)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid total",
                detail: $"total is the number of inputs sent, 0 to {MapStore.MaxInputsPerMap:N0} (got {request.Total}).");
        }
        await maps.CloseAsync(id, request.Total);
        return TypedResults.Ok(ToResponse((await maps.GetAsync(id))!));
    }

    public static async Task<Results<Ok<MapInfo>, ProblemHttpResult>> GetMapAsync(string id, ClaimsPrincipal caller, MapStore maps)
    {
        var map = await maps.GetAsync(id);
        return map is null || map.WorkspaceId != caller.WorkspaceId() ? MapNotFound(id) : TypedResults.Ok(ToResponse(map));
    }

    /// <summary>
    /// Outputs recorded after cursor <c>after</c> (<c>0</c>: from the start), in the order they were produced, with
    /// the cursor to ask from next. Asking from a cursor releases the outputs before it. With <c>timeout</c> (seconds,
    /// at most 50) the request waits that long for an output when none is there yet.
    /// </summary>
    public static async Task<IResult> GetOutputsAsync(
        string id, ClaimsPrincipal caller, MapStore maps, CancellationToken cancellationToken, string after = "0", double timeout = 0)
    {
        if (timeout is < 0 or > ApiLimits.MaxLongPollSeconds || double.IsNaN(timeout))
        {
            return CallEndpoints.InvalidWait("timeout");
        }
        if (after != "0" && !IsStreamId(after))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid cursor",
                detail: $"'{after}' is not a cursor: pass 0, or the 'next' value of the previous answer.");
        }
        var map = await maps.GetAsync(id);
        if (map is null || map.WorkspaceId != caller.WorkspaceId())
        {
            return MapNotFound(id);
        }
        var page = await maps.ReadOutputsAsync(id, after, MaxOutputsPerRequest, TimeSpan.FromSeconds(timeout), cancellationToken);
        var state = await maps.GetAsync(id) ?? map;
        // Outputs are stored as their JSON: the page is assembled, not re-serialized, which keeps a big map cheap to read.
        var body = new StringBuilder(64 + page.OutputsJson.Sum(o => o.Length + 1));
        body.Append("{\"mapId\":").Append(JsonSerializer.Serialize(id)).Append(",\"outputs\":[");
        body.AppendJoin(',', page.OutputsJson);
        body.Append("],\"next\":").Append(JsonSerializer.Serialize(page.Next))
            .Append(",\"outputsRecorded\":").Append(state.Outputs)
            .Append(",\"total\":").Append(state.Total is { } total ? total.ToString(System.Globalization.CultureInfo.InvariantCulture) : "null")
            .Append(",\"finished\":").Append(state.IsFinished ? "true" : "false").Append('}');
        return TypedResults.Text(body.ToString(), "application/json", Encoding.UTF8);
    }

    /// <summary>The app's recent maps, for progress displays such as <c>modal run</c>'s.</summary>
    public static async Task<Results<Ok<AppMaps>, ProblemHttpResult>> ListAppMapsAsync(
        string app, ClaimsPrincipal caller, ApiDbContext db, MapStore maps, CancellationToken cancellationToken, int limit = 20)
    {
        var found = await db.Apps.AsNoTracking().Referenced(caller.WorkspaceId(), app).Select(a => (Guid?)a.Id).FirstOrDefaultAsync(cancellationToken);
        return found is not { } appId
            ? CallTargets.AppNotFound(app)
            : TypedResults.Ok(new AppMaps((await maps.ListForAppAsync(appId, Math.Clamp(limit, 1, 100))).Select(ToResponse).ToList()));
    }

    /// <summary>Cancels a map: inputs not yet run are skipped; running ones see their cancellation token fire.</summary>
    public static async Task<Results<Ok<MapInfo>, ProblemHttpResult>> CancelMapAsync(
        string id, ClaimsPrincipal caller, MapStore maps, IPublishEndpoint events, TimeProvider clock, CancellationToken cancellationToken)
    {
        var map = await maps.GetAsync(id);
        if (map is null || map.WorkspaceId != caller.WorkspaceId())
        {
            return MapNotFound(id);
        }
        await maps.CancelAsync(id);
        await events.Publish(new FunctionCallCancelled { FunctionCallId = id, CancelledAt = clock.GetUtcNow() }, cancellationToken);
        return TypedResults.Ok(ToResponse((await maps.GetAsync(id))!));
    }

    /// <summary>
    /// Splits a page into bus messages: several inputs per message for throughput, but enough messages to spread over
    /// the function's containers. A slice goes to one runner, which runs its inputs side by side in its containers' free
    /// slots, so one slice per container the function may have is enough spread; more would only cost messages. At least
    /// that many slices, up to the page's size, at most <see cref="MaxInputsPerMessage"/> inputs each.
    /// </summary>
    public static IEnumerable<List<MapInput>> Slices(IReadOnlyList<MapInput> inputs, FunctionSignature signature)
    {
        long parallelism = signature.MaxContainers ?? AssumedContainers;
        var perMessage = (int)Math.Clamp((inputs.Count + parallelism - 1) / parallelism, 1, MaxInputsPerMessage);
        var slice = new List<MapInput>(perMessage);
        var bytes = 0;
        foreach (var input in inputs)
        {
            slice.Add(input);
            bytes += input.ArgumentsJson.Length;
            if (slice.Count == perMessage || bytes >= MaxSliceBytes)
            {
                yield return slice;
                slice = new List<MapInput>(perMessage);
                bytes = 0;
            }
        }
        if (slice.Count > 0)
        {
            yield return slice;
        }
    }

    /// <summary>The page as bus inputs; null inputs when an argument does not match (the caller reports which), or a problem.</summary>
    private static async Task<(List<MapInput>? Inputs, ProblemHttpResult? Problem)> ToMapInputsAsync(
        Guid workspaceId, IReadOnlyList<MapInputItem> inputs, FunctionSignature signature, PayloadBlobs blobs, CancellationToken cancellationToken)
    {
        var queued = new List<MapInput>(inputs.Count);
        var valid = true;
        foreach (var input in inputs)
        {
            if (input.Index is < 0 or >= MapStore.MaxInputsPerMap)
            {
                return (null, TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid input index",
                    detail: $"Input index {input.Index} is out of range: a map's inputs are numbered from 0 to {MapStore.MaxInputsPerMap - 1:N0}."));
            }
            if (input.ArgumentsBlob is { } blob)
            {
                if (await CallEndpoints.BlobArgumentsProblemAsync(workspaceId, blob, blobs, cancellationToken) is { } problem)
                {
                    return (null, problem);
                }
                queued.Add(new MapInput { Index = input.Index, ArgumentsJson = "", ArgumentsBlob = blob, Attempt = 1 });
                continue;
            }
            var arguments = input.Arguments.ValueKind == JsonValueKind.Undefined ? "{}" : input.Arguments.GetRawText();
            if (Encoding.UTF8.GetByteCount(arguments) > ApiLimits.MaxInlinePayloadBytes)
            {
                return (null, TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Arguments too large to inline",
                    detail: $"Input {input.Index}'s arguments are over {ApiLimits.MaxInlinePayloadBytes:N0} bytes; upload them as a blob and send argumentsBlob."));
            }
            valid &= CallEndpoints.ArgumentErrors(signature, input.Arguments).Count == 0;
            queued.Add(new MapInput { Index = input.Index, ArgumentsJson = arguments, Attempt = 1 });
        }
        return (valid ? queued : null, null);
    }

    /// <summary>Which inputs do not match the signature (the first ten), keyed <c>inputs[i].param</c>.</summary>
    private static Dictionary<string, string[]> InputErrors(IReadOnlyList<MapInputItem> inputs, FunctionSignature signature)
    {
        var errors = new Dictionary<string, string[]>();
        foreach (var input in inputs.Where(i => i.ArgumentsBlob is null).Take(MaxInputsPerRequest))
        {
            foreach (var (name, messages) in CallEndpoints.ArgumentErrors(signature, input.Arguments))
            {
                errors[$"inputs[{input.Index}].{name}"] = messages;
            }
            if (errors.Count >= 10)
            {
                break;
            }
        }
        return errors;
    }

    private static bool IsStreamId(string cursor)
    {
        var dash = cursor.IndexOf('-', StringComparison.Ordinal);
        return dash > 0 && long.TryParse(cursor.AsSpan(0, dash), out _) && long.TryParse(cursor.AsSpan(dash + 1), out _);
    }

    private static MapInfo ToResponse(MapRecord map) => new(
        map.MapId, map.AppName, map.FunctionName, map.CreatedAt, map.InputsQueued, map.Outputs, map.Failures, map.Total, map.IsFinished, map.Cancelled);

    private static ProblemHttpResult MapNotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Map not found",
            detail: $"No map '{id}' is known in this workspace (map state is kept for a limited time).");
}
