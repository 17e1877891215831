using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Requests made from a service's own OpenAPI document: every operation, its path and query parameters and its JSON
/// body filled from the schema — mostly with what a careless or hostile client sends (out-of-range and non-numbers,
/// NUL, path tricks, invalid UTF-8, wrong JSON kinds, missing and unknown fields, malformed JSON, the wrong media type)
/// and sometimes with values that fit. Seeded, so a failure is reproduced by its seed.
/// </summary>
public sealed class OpenApiFuzzer
{
    /// <summary>One operation of the document.</summary>
    public sealed record Operation(string Method, string Path, IReadOnlyList<Parameter> Parameters, JsonElement? Body)
    {
        public override string ToString() => $"{Method} {Path}";
    }

    /// <summary>A path or query parameter.</summary>
    public sealed record Parameter(string Name, string In, JsonElement Schema);

    private static readonly string[] HostileStrings =
    [
        "", " ", "..", "../../etc/passwd", "a/b", "\0", "a\0b", "%00", "%FF", "\u202e", "😀", "é", "null", "-1", "1e22",
        "' OR 1=1 --", "<script>", "\\", "~", new string('a', 65), new string('x', 300), new string('y', 3000),
    ];

    private static readonly string[] HostileNumbers =
        ["-1", "0", "1e22", "-1e22", "NaN", "Infinity", "9223372036854775808", "2147483648", "1.5", "abc", "", "0x10"];

    private readonly Random _random;
    private readonly JsonElement _components;

    public OpenApiFuzzer(JsonDocument document, int seed)
    {
        ArgumentNullException.ThrowIfNull(document);
        _random = new Random(seed);
        var root = document.RootElement;
        _components = root.TryGetProperty("components", out var components) ? components : default;
        var operations = new List<Operation>();
        foreach (var path in root.GetProperty("paths").EnumerateObject())
        {
            var shared = path.Value.TryGetProperty("parameters", out var common) ? common.EnumerateArray().ToList() : [];
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "get" or "put" or "post" or "delete" or "patch" or "head"))
            {
                var parameters = shared.Concat(operation.Value.TryGetProperty("parameters", out var own) ? own.EnumerateArray() : [])
                    .Select(Resolve)
                    .Select(p => new Parameter(p.GetProperty("name").GetString()!, p.GetProperty("in").GetString()!,
                        p.TryGetProperty("schema", out var schema) ? Resolve(schema) : default))
                    .ToList();
                JsonElement? body = operation.Value.TryGetProperty("requestBody", out var requestBody)
                    && Resolve(requestBody).TryGetProperty("content", out var content)
                    && content.TryGetProperty("application/json", out var json) && json.TryGetProperty("schema", out var bodySchema)
                        ? Resolve(bodySchema)
                        : null;
                operations.Add(new Operation(operation.Name.ToUpperInvariant(), path.Name, parameters, body));
            }
        }
        Operations = operations;
    }

    /// <summary>Every operation the document lists.</summary>
    public IReadOnlyList<Operation> Operations { get; }

    /// <summary>A request for <paramref name="operation"/>, hostile most of the time.</summary>
    public HttpRequestMessage NextRequest(Operation operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var path = operation.Path;
        var query = new List<string>();
        foreach (var parameter in operation.Parameters)
        {
            var value = ScalarText(parameter.Schema);
            if (parameter.In == "path")
            {
                // A NUL in a path is refused by Kestrel itself (400) and by the test server's client before sending.
                value = value.Replace("\0", "", StringComparison.Ordinal);
                path = path.Replace($"{{{parameter.Name}}}", Uri.EscapeDataString(value.Length == 0 ? "x" : value), StringComparison.Ordinal);
            }
            else if (parameter.In == "query" && _random.Next(3) > 0)
            {
                query.Add($"{Uri.EscapeDataString(parameter.Name)}={Uri.EscapeDataString(value)}");
            }
        }
        // Path templates may carry constraints ({id:guid}) or catch-alls ({**rest}) the loop did not name exactly.
        path = System.Text.RegularExpressions.Regex.Replace(path, @"\{[^}]+\}", _ => Uri.EscapeDataString(Pick(HostileStrings).Length == 0 ? "x" : "fuzz"));
        var uri = query.Count == 0 ? path : $"{path}?{string.Join('&', query)}";
        var request = new HttpRequestMessage(new HttpMethod(operation.Method), new Uri(uri, UriKind.Relative));
        if (operation.Method is "POST" or "PUT" or "PATCH")
        {
            request.Content = Body(operation.Body);
        }
        return request;
    }

    private HttpContent? Body(JsonElement? schema)
    {
        switch (_random.Next(12))
        {
            case 0:
                return null;
            case 1:
                return Json("{}");
            case 2:
                return Json(Pick(["null", "[]", "0", "\"text\"", "{\"a\":", "{{", "[1,2", "tru"]));
            case 3:
                var invalid = new ByteArrayContent([.. "{\"name\": \""u8, 0xFF, 0xC0, 0x80, .. "\", \"\uFFFF\": 1}"u8]);
                invalid.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                return invalid;
            case 4:
                return new StringContent("name=x&values=y", Encoding.UTF8, "application/x-www-form-urlencoded");
            case 5:
                return Json(new string('[', 5000) + new string(']', 5000));
            default:
                return Json(schema is { } s ? Value(s, depth: 0)?.ToJsonString() ?? "null" : "{}");
        }
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    /// <summary>A JSON value for <paramref name="schema"/>: of the right shape half the time, anything else otherwise.</summary>
    private JsonNode? Value(JsonElement schema, int depth)
    {
        schema = Resolve(schema);
        if (depth > 4 || _random.Next(6) == 0)
        {
            return Wrong();
        }
        var type = TypeOf(schema);
        switch (type)
        {
            case "object":
                var node = new JsonObject();
                if (schema.TryGetProperty("properties", out var properties))
                {
                    foreach (var property in properties.EnumerateObject())
                    {
                        // Some fields left out, required or not: a body without its required field must be a 400.
                        if (_random.Next(5) > 0)
                        {
                            node[property.Name] = Value(property.Value, depth + 1);
                        }
                    }
                }
                if (schema.TryGetProperty("additionalProperties", out var additional) && additional.ValueKind == JsonValueKind.Object)
                {
                    for (var i = _random.Next(3); i > 0; i--)
                    {
                        node[Pick(HostileStrings) + i.ToString(CultureInfo.InvariantCulture)] = Value(additional, depth + 1);
                    }
                }
                if (_random.Next(4) == 0)
                {
                    node["unknownField"] = "surprise";
                }
                return node;
            case "array":
                var array = new JsonArray();
                var items = schema.TryGetProperty("items", out var itemSchema) ? itemSchema : default;
                for (var i = _random.Next(4); i > 0; i--)
                {
                    array.Add(items.ValueKind == JsonValueKind.Undefined ? Wrong() : Value(items, depth + 1));
                }
                return array;
            case "integer":
                return _random.Next(3) == 0 ? JsonValue.Create(_random.Next(0, 5)) : JsonNode.Parse(Pick(["-1", "0", "1e22", "9223372036854775808", "2147483648", "1.5", "-9223372036854775809"]));
            case "number":
                return JsonNode.Parse(Pick(["0", "1.5", "-1", "1e308", "-1e308", "5e-324", "100000000000"]));
            case "boolean":
                return JsonValue.Create(_random.Next(2) == 0);
            default:
                return schema.TryGetProperty("format", out var format) && format.GetString() == "uuid" && _random.Next(2) == 0
                    ? JsonValue.Create(Guid.NewGuid())
                    : JsonValue.Create(Pick(HostileStrings));
        }
    }

    /// <summary>A value of another JSON kind than asked for.</summary>
    private JsonNode? Wrong() => _random.Next(6) switch
    {
        0 => null,
        1 => JsonValue.Create(Pick(HostileStrings)),
        2 => JsonNode.Parse(Pick(["1e22", "-1", "0", "3.5"])),
        3 => new JsonArray(JsonValue.Create(1), JsonValue.Create("two")),
        4 => new JsonObject { ["nested"] = new JsonObject { ["deeper"] = new JsonArray() } },
        _ => JsonValue.Create(true),
    };

    /// <summary>Text for a path or query parameter of <paramref name="schema"/>.</summary>
    private string ScalarText(JsonElement schema)
    {
        var type = schema.ValueKind == JsonValueKind.Object ? TypeOf(Resolve(schema)) : "string";
        if (_random.Next(4) == 0)
        {
            return type switch
            {
                "integer" => _random.Next(0, 5).ToString(CultureInfo.InvariantCulture),
                "number" => "0.5",
                "boolean" => "true",
                _ => $"fuzz-{_random.Next(1000)}",
            };
        }
        return type is "integer" or "number" or "boolean" ? Pick(HostileNumbers) : Pick(HostileStrings);
    }

    private static string TypeOf(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            return schema.TryGetProperty("properties", out _) ? "object" : "string";
        }
        // OpenAPI 3.1 writes nullable types as ["integer", "null"].
        return type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Select(t => t.GetString()).FirstOrDefault(t => t != "null") ?? "string"
            : type.GetString() ?? "string";
    }

    private JsonElement Resolve(JsonElement element)
    {
        for (var hops = 0; hops < 10 && element.ValueKind == JsonValueKind.Object && element.TryGetProperty("$ref", out var reference); hops++)
        {
            // "#/components/schemas/Name"
            var parts = reference.GetString()!.Split('/');
            var target = _components;
            foreach (var part in parts.Skip(2))
            {
                if (target.ValueKind != JsonValueKind.Object || !target.TryGetProperty(part, out target))
                {
                    return default;
                }
            }
            element = target;
        }
        return element;
    }

    private string Pick(string[] values) => values[_random.Next(values.Length)];
}
