using System.Text.Json;
using System.Text.Json.Nodes;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Calls;
using Modal.Rest;

namespace Modal;

/// <summary>Turns typed arguments into a call on the platform.</summary>
internal static class RemoteInvoker
{
    public static async Task<FunctionCall<TResult>> SpawnAsync<TResult>(
        ModalClient client, string app, string function, JsonElement arguments, CancellationToken cancellationToken)
    {
        var request = await RequestAsync(client, arguments, cancellationToken).ConfigureAwait(false);
        var created = await client.Apps.CreateCallAsync(app, function, request, cancellationToken).ConfigureAwait(false);
        return new FunctionCall<TResult>(client, created.FunctionCallId);
    }

    /// <summary>Calls and waits for the result: one request when the call finishes within the Api's wait, as most do.</summary>
    public static async Task<TResult> CallAsync<TResult>(
        ModalClient client, string app, string function, JsonElement arguments, CancellationToken cancellationToken)
    {
        var request = await RequestAsync(client, arguments, cancellationToken).ConfigureAwait(false);
        var call = await client.Apps.CallAsync(app, function, request, ApiLimits.MaxLongPoll.TotalSeconds, cancellationToken).ConfigureAwait(false);
        var handle = new FunctionCall<TResult>(client, call.FunctionCallId);
        return call.IsFinished
            ? await handle.UnwrapAsync(call, cancellationToken).ConfigureAwait(false)
            : await handle.GetAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private static async Task<CreateCallRequest> RequestAsync(ModalClient client, JsonElement arguments, CancellationToken cancellationToken) =>
        await BlobIfLargeAsync(client, arguments, cancellationToken).ConfigureAwait(false) is { } blob
            ? new CreateCallRequest { ArgumentsBlob = blob }
            : new CreateCallRequest { Arguments = arguments };

    /// <summary>Null when the arguments go inline; else the id of the blob they were uploaded as.</summary>
    public static async Task<string?> BlobIfLargeAsync(ModalClient client, JsonElement arguments, CancellationToken cancellationToken)
    {
        var raw = arguments.GetRawText();
        // Only long texts are measured in bytes (a character is at most 3 UTF-8 bytes).
        if (raw.Length <= ApiLimits.MaxInlinePayloadBytes / 3 || System.Text.Encoding.UTF8.GetByteCount(raw) <= ApiLimits.MaxInlinePayloadBytes)
        {
            return null;
        }
        return await UploadAsync(client, System.Text.Encoding.UTF8.GetBytes(raw), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stores a payload as a content-addressed blob (skipped when already stored) and returns its id.</summary>
    private static async Task<string> UploadAsync(ModalClient client, byte[] payload, CancellationToken cancellationToken)
    {
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload));
        if ((await client.Blobs.FindMissingAsync([hash], cancellationToken).ConfigureAwait(false)).Length > 0)
        {
            using var content = new ByteArrayContent(payload);
            await client.Blobs.PutAsync(hash, content, cancellationToken).ConfigureAwait(false);
        }
        return hash;
    }

    /// <summary>The arguments as the wire carries them: a JSON object keyed by parameter name.</summary>
    public static JsonElement ArgumentsOf(FunctionDefinition definition, object?[] values) => ArgumentsOf(definition.Parameters, values);

    /// <summary>The arguments as the wire carries them: a JSON object keyed by parameter name.</summary>
    public static JsonElement ArgumentsOf(IReadOnlyList<FunctionParameter> parameters, object?[] values)
    {
        var arguments = new JsonObject();
        for (var i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i];
            arguments[parameter.Name] = JsonSerializer.SerializeToNode(values[i], parameter.Type, App.SerializerOptions);
        }
        return JsonSerializer.SerializeToElement(arguments, App.SerializerOptions);
    }
}
