using System.Text.Json;
using Modal.Api.Contracts.Apps;

namespace Modal.Api.Apps;

/// <summary>
/// Reads a <see cref="DeployAppRequest"/> body with each function left as the JSON it was sent as (see
/// <c>AppEndpoints.DeployAppAsync</c>). Property names are the record's, matched as the web JSON defaults bind them
/// (camelCase, case-insensitive), so the body is the same one the record describes.
/// </summary>
public static class DeployBody
{
    private static readonly string FunctionsName = JsonNamingPolicy.CamelCase.ConvertName(nameof(DeployAppRequest.Functions)),
        EphemeralName = JsonNamingPolicy.CamelCase.ConvertName(nameof(DeployAppRequest.Ephemeral)),
        BundleIdName = JsonNamingPolicy.CamelCase.ConvertName(nameof(DeployAppRequest.BundleId));

    /// <summary>The request's fields, and validation errors (keyed by field) for those of the wrong JSON kind.</summary>
    public static ((IReadOnlyList<JsonElement> Functions, bool Ephemeral, string? BundleId) Request, Dictionary<string, string[]> Errors) Read(JsonElement body)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors[""] = ["The body is a JSON object: {\"functions\": [...], \"ephemeral\": false, \"bundleId\": \"<sha256>\"}."];
            return (([], false, null), errors);
        }
        var functions = Property(body, FunctionsName) switch
        {
            null or { ValueKind: JsonValueKind.Null } => [],
            { ValueKind: JsonValueKind.Array } array => array.EnumerateArray().ToList(),
            _ => Invalid<List<JsonElement>>(errors, FunctionsName, "is a JSON array of function manifests.", []),
        };
        var ephemeral = Property(body, EphemeralName) switch
        {
            null => false,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            _ => Invalid(errors, EphemeralName, "is true or false.", false),
        };
        var bundleId = Property(body, BundleIdName) switch
        {
            null or { ValueKind: JsonValueKind.Null } => null,
            { ValueKind: JsonValueKind.String } text => text.GetString(),
            _ => Invalid<string?>(errors, BundleIdName, "is a string.", null),
        };
        return ((functions, ephemeral, bundleId), errors);
    }

    private static JsonElement? Property(JsonElement body, string name)
    {
        foreach (var property in body.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }
        return null;
    }

    private static T Invalid<T>(Dictionary<string, string[]> errors, string name, string rule, T fallback)
    {
        errors[name] = [$"{name} {rule}"];
        return fallback;
    }
}
