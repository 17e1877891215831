using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Modal.Api.Calls;
using Modal.Api.Contracts.Web;

namespace Modal.Api.Web;

/// <summary>
/// Serves a web function: the request becomes a call through the call path every caller shares
/// (<see cref="CallSubmitter"/>), and its result is the answer — JSON (200), or the raw status, body and headers of a
/// <c>Modal.WebResponse</c>. A call still running after <see cref="IngressOptions.WebFunctionTimeout"/> is answered 303
/// to <c>/__modal/results/{callId}</c> on the same endpoint, which waits again. CORS is open (any origin), as on Modal.
/// </summary>
public sealed class WebFunctionHandler(IOptions<IngressOptions> options, CallStore calls, PayloadBlobs blobs)
{
    /// <summary>The result type whose value is written raw (status, body, content type, headers).</summary>
    public const string WebResponseType = "Modal.WebResponse";

    /// <summary>Where a call's result is read again after a 303 (under the endpoint's root).</summary>
    public const string ResultsPath = "/__modal/results/";

    public async Task HandleAsync(HttpContext context, WebEndpoint endpoint)
    {
        var request = context.Request;
        var response = context.Response;
        response.Headers.AccessControlAllowOrigin = "*";
        response.Headers.AccessControlExposeHeaders = WebHeaders.FunctionCallId;

        if (HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey(HeaderNames.AccessControlRequestMethod))
        {
            // A browser's preflight carries no credentials: answered here, before proxy auth.
            response.StatusCode = StatusCodes.Status204NoContent;
            response.Headers.AccessControlAllowMethods = string.Join(", ", endpoint.Web.Methods.Append("OPTIONS"));
            response.Headers.AccessControlAllowHeaders = request.Headers.AccessControlRequestHeaders.Count > 0
                ? request.Headers.AccessControlRequestHeaders : "*";
            response.Headers.AccessControlMaxAge = "86400";
            return;
        }
        if (!await ProxyAuth.AllowsAsync(context, endpoint))
        {
            return;
        }

        var path = request.Path.Value ?? "";
        if (path.StartsWith(ResultsPath, StringComparison.Ordinal))
        {
            await ResultAsync(context, endpoint, path[ResultsPath.Length..]);
            return;
        }
        if (path is not ("" or "/"))
        {
            await WebProblems.WriteAsync(context, StatusCodes.Status404NotFound, "Not found",
                $"A web function answers at its endpoint's root ('/'), not at '{path}'.");
            return;
        }
        if (!endpoint.Web.Methods.Contains(request.Method, StringComparer.OrdinalIgnoreCase))
        {
            response.Headers.Allow = string.Join(", ", endpoint.Web.Methods.Append("OPTIONS"));
            await WebProblems.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "Method not allowed",
                $"{endpoint.Target.AppName}.{endpoint.FunctionName} answers {string.Join(", ", endpoint.Web.Methods)}, not {request.Method}.");
            return;
        }

        var (arguments, problem) = await WebArguments.BindAsync(request, endpoint, options.Value.RequestBodyLimit, context.RequestAborted);
        if (problem is not null)
        {
            await problem.ExecuteAsync(context);
            return;
        }
        var submitter = context.RequestServices.GetRequiredService<CallSubmitter>();
        var (call, notQueued) = await submitter.SubmitAsync(endpoint.WorkspaceId, endpoint.Target, endpoint.FunctionName, arguments!,
            argumentsBlob: null, watch: true, context.RequestAborted, origin: Modal.Api.Contracts.Calls.CallOrigins.Web);
        if (call is null)
        {
            await notQueued!.ExecuteAsync(context);
            return;
        }
        await using var watch = call.Watch!;
        response.Headers[WebHeaders.FunctionCallId] = call.FunctionCallId;
        var finished = await watch.WaitAsync(options.Value.WebFunctionTimeout, context.RequestAborted);
        await WriteAsync(context, endpoint, call.FunctionCallId, finished);
    }

    private async Task ResultAsync(HttpContext context, WebEndpoint endpoint, string callId)
    {
        context.Response.Headers[WebHeaders.FunctionCallId] = callId;
        var call = await calls.WaitAsync(callId, options.Value.WebFunctionTimeout, context.RequestAborted);
        // Another endpoint's call answers as an unknown one: a result URL reaches only its own function's calls.
        if (call is null || call.FunctionId != endpoint.Target.FunctionId || call.WorkspaceId != endpoint.WorkspaceId)
        {
            await WebProblems.WriteAsync(context, StatusCodes.Status404NotFound, "Result not found",
                $"No call '{callId}' of this endpoint is known (results are kept for a limited time).");
            return;
        }
        await WriteAsync(context, endpoint, callId, call);
    }

    private async Task WriteAsync(HttpContext context, WebEndpoint endpoint, string callId, CallRecord? call)
    {
        var response = context.Response;
        if (call is not { IsTerminal: true })
        {
            response.StatusCode = StatusCodes.Status303SeeOther;
            response.Headers.Location = $"{context.Request.PathBase}{ResultsPath}{callId}";
            return;
        }
        if (call.State != CallStates.Succeeded)
        {
            await WebProblems.WriteAsync(context, StatusCodes.Status500InternalServerError, "Function failed",
                $"{endpoint.Target.AppName}.{endpoint.FunctionName} failed: {call.ExceptionType}: {call.ExceptionMessage}",
                new Dictionary<string, object?> { ["exceptionType"] = call.ExceptionType, ["functionCallId"] = callId });
            return;
        }

        if (endpoint.Target.Signature.ResultType == WebResponseType)
        {
            var json = call.ResultJson;
            if (call.ResultBlob is { } blob)
            {
                using var stored = await blobs.OpenAsync(endpoint.WorkspaceId, blob, context.RequestAborted);
                json = stored is null ? null : await stored.Content.ReadAsStringAsync(context.RequestAborted);
            }
            await WriteWebResponseAsync(context, endpoint, json);
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json; charset=utf-8";
        if (call.ResultBlob is { } resultBlob)
        {
            using var stored = await blobs.OpenAsync(endpoint.WorkspaceId, resultBlob, context.RequestAborted)
                ?? throw new InvalidOperationException($"Call {callId}'s result blob {resultBlob} is missing from Storage.");
            response.ContentLength = stored.Content.Headers.ContentLength;
            await stored.Content.CopyToAsync(response.Body, context.RequestAborted);
            return;
        }
        await response.WriteAsync(call.ResultJson ?? "null", context.RequestAborted);
    }

    private static readonly JsonSerializerOptions WebResponseJson = new(JsonSerializerDefaults.Web);

    /// <summary>The shape of a <c>Modal.WebResponse</c> result on the wire.</summary>
    private sealed record WebResponseBody(int StatusCode, string? Body, string? ContentType, Dictionary<string, string>? Headers);

    private static async Task WriteWebResponseAsync(HttpContext context, WebEndpoint endpoint, string? json)
    {
        WebResponseBody? answer = null;
        try
        {
            answer = json is null ? null : JsonSerializer.Deserialize<WebResponseBody>(json, WebResponseJson);
        }
        catch (JsonException)
        {
            // Reported below as what it is: a result that is not a web response.
        }
        if (answer is null || answer.StatusCode is < 100 or > 599)
        {
            await WebProblems.WriteAsync(context, StatusCodes.Status502BadGateway, "Invalid web response",
                $"{endpoint.Target.AppName}.{endpoint.FunctionName} returned a {WebResponseType} without a valid status code.");
            return;
        }
        var response = context.Response;
        response.StatusCode = answer.StatusCode;
        foreach (var (name, value) in answer.Headers ?? [])
        {
            // Framing is the ingress's to set: a function's own Content-Length or Transfer-Encoding would contradict the body.
            if (!name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase)
                && !name.Equals(HeaderNames.TransferEncoding, StringComparison.OrdinalIgnoreCase)
                && !name.Equals(HeaderNames.Connection, StringComparison.OrdinalIgnoreCase))
            {
                response.Headers[name] = value;
            }
        }
        if (answer.ContentType is { Length: > 0 } contentType)
        {
            response.ContentType = contentType;
        }
        if (answer.Body is { } body)
        {
            await response.WriteAsync(body, context.RequestAborted);
        }
    }
}
