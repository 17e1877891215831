using System.Text.Json;

namespace Modal;

/// <summary>What one input produced: a JSON result, or the exception the function threw.</summary>
internal sealed record FunctionOutcome(string? ResultJson, Exception? Exception)
{
    public bool Succeeded => Exception is null;
}

/// <summary>Runs one input of a function from its wire form (the function server's core).</summary>
internal static class FunctionExecutor
{
    public static async Task<FunctionOutcome> ExecuteAsync(FunctionDefinition function, string argumentsJson)
    {
        try
        {
            using var arguments = JsonDocument.Parse(argumentsJson);
            var bound = function.BindArguments(arguments.RootElement, App.SerializerOptions);
            var result = await function.InvokeAsync(bound).ConfigureAwait(false);
            return new FunctionOutcome(JsonSerializer.Serialize(result, function.ResultType == typeof(void) ? typeof(object) : function.ResultType,
                App.SerializerOptions), null);
        }
        catch (Exception e)
        {
            return new FunctionOutcome(null, e);
        }
    }
}
