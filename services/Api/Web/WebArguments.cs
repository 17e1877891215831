using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Primitives;
using Modal.Api.Contracts;
using Modal.Api.Domain;
using Modal.Api.Endpoints;

namespace Modal.Api.Web;

/// <summary>
/// Binds a web function's request to its parameters, checked against its signature before anything is queued: the
/// query string by each parameter's type (a repeated key fills an array or list parameter), and a JSON object body by
/// field. A parameter given in both the query string and the body is an error (400 naming it), not a silent pick of one.
/// Query keys that are no parameter are ignored (browsers and caches add their own); body fields that are no parameter
/// are an error, as on the call path.
/// </summary>
public static class WebArguments
{
    /// <summary>The arguments JSON of the call, or the problem to answer (400 naming the fields, 413, 415).</summary>
    public static async Task<(string? Json, IResult? Problem)> BindAsync(
        HttpRequest request, WebEndpoint endpoint, int bodyLimit, CancellationToken cancellationToken)
    {
        var signature = endpoint.Target.Signature;
        using var body = await ReadBodyAsync(request, bodyLimit, cancellationToken);
        if (body.Problem is not null)
        {
            return (null, body.Problem);
        }

        var errors = new Dictionary<string, string[]>();
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (body.Document is { } document)
            {
                foreach (var field in document.RootElement.EnumerateObject())
                {
                    field.WriteTo(writer);
                }
            }
            foreach (var (key, values) in request.Query)
            {
                var parameter = signature.Parameters.FirstOrDefault(p => p.Name == key);
                if (parameter is null)
                {
                    continue;
                }
                if (body.Document is { } given && given.RootElement.TryGetProperty(key, out _))
                {
                    errors[key] = [$"'{key}' is given both in the query string and in the body; give it once."];
                    continue;
                }
                writer.WritePropertyName(key);
                if (WriteQueryValue(writer, parameter.Type, values) is { } error)
                {
                    errors[key] = [$"Query parameter '{key}' {error}"];
                    writer.WriteNullValue();
                }
            }
            writer.WriteEndObject();
        }
        if (errors.Count > 0)
        {
            return (null, TypedResults.ValidationProblem(errors, title: $"The request does not bind to {endpoint.Target.AppName}.{endpoint.FunctionName}"));
        }
        if (buffer.WrittenCount > ApiLimits.MaxInlinePayloadBytes)
        {
            return (null, TooLarge(buffer.WrittenCount, ApiLimits.MaxInlinePayloadBytes));
        }

        using var arguments = JsonDocument.Parse(buffer.WrittenMemory);
        if (CallEndpoints.ArgumentErrors(signature, arguments.RootElement) is { Count: > 0 } mismatches)
        {
            return (null, TypedResults.ValidationProblem(mismatches, title: $"The request does not bind to {endpoint.Target.AppName}.{endpoint.FunctionName}"));
        }
        return (System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan), null);
    }

    private sealed record Body(JsonDocument? Document, IResult? Problem) : IDisposable
    {
        public void Dispose() => Document?.Dispose();
    }

    private static async Task<Body> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength is 0)
        {
            return new Body(null, null);
        }
        if (request.ContentLength > limit)
        {
            return new Body(null, TooLarge(request.ContentLength.Value, limit));
        }

        // Read at most one byte past the limit: a chunked body that is too large is refused without being buffered whole.
        var rented = ArrayPool<byte>.Shared.Rent(Math.Min(limit, 64 * 1024) + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == rented.Length)
                {
                    if (length > limit)
                    {
                        return new Body(null, TooLarge(null, limit));
                    }
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)rented.Length * 2, limit + 1L));
                    rented.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(rented);
                    rented = larger;
                }
                var read = await request.Body.ReadAsync(rented.AsMemory(length, rented.Length - length), cancellationToken);
                if (read == 0)
                {
                    break;
                }
                length += read;
                if (length > limit)
                {
                    return new Body(null, TooLarge(null, limit));
                }
            }
            if (length == 0)
            {
                return new Body(null, null);
            }
            if (!request.HasJsonContentType())
            {
                return new Body(null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported body",
                    detail: $"A web function's body is a JSON object (Content-Type: application/json), not '{request.ContentType}'; or pass the arguments in the query string."));
            }
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(rented.AsMemory(0, length));
            }
            catch (JsonException e)
            {
                return new Body(null, TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["body"] = [$"The body is not valid JSON: {e.Message}"] }, title: "The body is not JSON"));
            }
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                var kind = document.RootElement.ValueKind;
                document.Dispose();
                return new Body(null, TypedResults.ValidationProblem(
                    new Dictionary<string, string[]> { ["body"] = [$"The body is a JSON object keyed by parameter name, not a JSON {kind}."] },
                    title: "The body is not a JSON object"));
            }
            return new Body(document, null);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static ProblemHttpResult TooLarge(long? size, long limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Request body too large",
            detail: (size is { } known ? $"The body is {known:N0} bytes; " : "The body is larger than the limit; ") +
                $"a web function's request body is limited to {limit:N0} bytes. Pass large data through a Volume, or serve it with an ASP.NET app.");

    /// <summary>Writes the query value(s) as the parameter's JSON; the error's wording when they cannot be.</summary>
    private static string? WriteQueryValue(Utf8JsonWriter writer, string type, StringValues values)
    {
        if (ElementType(type) is { } element)
        {
            writer.WriteStartArray();
            foreach (var value in values)
            {
                if (WriteScalar(writer, element, value ?? "") is { } error)
                {
                    return error;
                }
            }
            writer.WriteEndArray();
            return null;
        }
        return values.Count > 1
            ? $"is given {values.Count} times; '{type}' takes one value."
            : WriteScalar(writer, type, values.ToString());
    }

    private static string? WriteScalar(Utf8JsonWriter writer, string type, string value)
    {
        if (GenericArgument(type, "System.Nullable`1") is { } underlying)
        {
            if (value.Length == 0)
            {
                writer.WriteNullValue();
                return null;
            }
            type = underlying;
        }
        switch (type)
        {
            case "System.String" or "System.Char" or "System.Guid" or "System.DateTime" or "System.DateTimeOffset" or "System.DateOnly"
                or "System.TimeOnly" or "System.TimeSpan" or "System.Uri":
                writer.WriteStringValue(value);
                return null;
            case "System.Boolean":
                if (value is "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase))
                {
                    writer.WriteBooleanValue(true);
                    return null;
                }
                if (value is "0" || value.Equals("false", StringComparison.OrdinalIgnoreCase))
                {
                    writer.WriteBooleanValue(false);
                    return null;
                }
                return $"must be true or false (a {type}), not '{value}'.";
            case "System.Byte" or "System.SByte" or "System.Int16" or "System.UInt16" or "System.Int32" or "System.UInt32" or "System.Int64":
                if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
                {
                    writer.WriteNumberValue(integer);
                    return null;
                }
                return $"must be a whole number (a {type}), not '{value}'.";
            case "System.UInt64":
                if (ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var unsigned))
                {
                    writer.WriteNumberValue(unsigned);
                    return null;
                }
                return $"must be a whole number (a {type}), not '{value}'.";
            case "System.Decimal":
                if (decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var exact))
                {
                    writer.WriteNumberValue(exact);
                    return null;
                }
                return $"must be a number (a {type}), not '{value}'.";
            case "System.Double" or "System.Single":
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
                {
                    writer.WriteNumberValue(real);
                    return null;
                }
                return $"must be a number (a {type}), not '{value}'.";
            default:
                // Other types (records, enums, dictionaries) are bound by the container: JSON text as is, anything else as a string.
                try
                {
                    using var json = JsonDocument.Parse(value);
                    json.RootElement.WriteTo(writer);
                }
                catch (JsonException)
                {
                    writer.WriteStringValue(value);
                }
                return null;
        }
    }

    /// <summary>The element type of an array or list type (<c>System.Int32[]</c>, <c>List`1[[System.Int32, …]]</c>); null for others.</summary>
    public static string? ElementType(string type)
    {
        if (type.EndsWith("[]", StringComparison.Ordinal))
        {
            return type[..^2];
        }
        foreach (var generic in (ReadOnlySpan<string>)["System.Collections.Generic.List`1", "System.Collections.Generic.IReadOnlyList`1",
                     "System.Collections.Generic.IList`1", "System.Collections.Generic.IEnumerable`1",
                     "System.Collections.Generic.IReadOnlyCollection`1", "System.Collections.Generic.ICollection`1"])
        {
            if (GenericArgument(type, generic) is { } argument)
            {
                return argument;
            }
        }
        return null;
    }

    /// <summary>The single type argument of <paramref name="generic"/> in a .NET full type name, without its assembly.</summary>
    private static string? GenericArgument(string type, string generic)
    {
        if (!type.StartsWith(generic + "[[", StringComparison.Ordinal))
        {
            return null;
        }
        var argument = type[(generic.Length + 2)..];
        var comma = argument.IndexOf(',', StringComparison.Ordinal);
        var end = argument.IndexOf(']', StringComparison.Ordinal);
        var cut = comma >= 0 && (end < 0 || comma < end) ? comma : end;
        return cut > 0 ? argument[..cut].Trim() : null;
    }
}
