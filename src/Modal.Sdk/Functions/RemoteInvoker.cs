using System.Text.Json;
using System.Text.Json.Nodes;
using Modal.Rest;

namespace Modal;

/// <summary>Turns typed arguments into a call on the platform.</summary>
internal static class RemoteInvoker
{
    public static async Task<FunctionCall<TResult>> SpawnAsync<TResult>(
        ModalClient client, string app, string function, JsonElement arguments, CancellationToken cancellationToken)
    {
        var created = await client.Apps.CreateCallAsync(app, function, new CreateCallRequest(arguments), cancellationToken)
            .ConfigureAwait(false);
        return new FunctionCall<TResult>(client, created.FunctionCallId);
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
