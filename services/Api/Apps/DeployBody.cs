using System.Text.Json;
using Modal.Api.Contracts.Apps;

namespace Modal.Api.Apps;

/// <summary>
/// Reads a <see cref="DeployAppRequest"/> or <see cref="CreateAppRequest"/> body with each function left as the JSON it
/// was sent as (see <c>AppEndpoints.DeployAppAsync</c>). Property names are the records', matched as the web JSON
/// defaults bind them (camelCase, case-insensitive), so the body is the same one the records describe.
/// </summary>
public static class DeployBody
{
    private static readonly string FunctionsName = JsonNamingPolicy.CamelCase.ConvertName(nameof(DeployAppRequest.Functions)),
        NameName = JsonNamingPolicy.CamelCase.ConvertName(nameof(CreateAppRequest.Name)),
        BundleIdName = JsonNamingPolicy.CamelCase.ConvertName(nameof(DeployAppRequest.BundleId));

    /// <summary>
    /// The request's fields, and validation errors (keyed by field) for those of the wrong JSON kind. The app's name is
    /// read only when <paramref name="nameInBody"/> (a run's body carries it; a deploy names the app in its route).
    /// </summary>
    public static ((string? Name, IReadOnlyList<JsonElement> Functions, string? BundleId) Request, Dictionary<string, string[]> Errors) Read(
        JsonElement body, bool nameInBody)
    {
        var errors = new Dictionary<string, string[]>();
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors[""] = [nameInBody
                ? "The body is a JSON object: {\"name\": \"my-app\", \"functions\": [...], \"bundleId\": \"<sha256>\"}."
                : "The body is a JSON object: {\"functions\": [...], \"bundleId\": \"<sha256>\"}."];
            return ((null, [], null), errors);
        }
        var name = !nameInBody ? null : Property(body, NameName) switch
        {
            { ValueKind: JsonValueKind.String } text => text.GetString(),
            _ => Invalid<string?>(errors, NameName, "is the app's name, a string.", null),
        };
        var functions = Property(body, FunctionsName) switch
        {
            // Required: read as empty, a body without it would deploy an app of no functions over a serving one.
            null or { ValueKind: JsonValueKind.Null } => Invalid<List<JsonElement>>(errors, FunctionsName,
                "is required: the app's function manifests, a JSON array.", []),
            { ValueKind: JsonValueKind.Array } array => array.EnumerateArray().ToList(),
            _ => Invalid<List<JsonElement>>(errors, FunctionsName, "is a JSON array of function manifests.", []),
        };
        var bundleId = Property(body, BundleIdName) switch
        {
            null or { ValueKind: JsonValueKind.Null } => null,
            { ValueKind: JsonValueKind.String } text => text.GetString(),
            _ => Invalid<string?>(errors, BundleIdName, "is a string.", null),
        };
        return ((name, functions, bundleId), errors);
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
