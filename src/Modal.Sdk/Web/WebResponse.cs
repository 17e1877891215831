namespace Modal;

/// <summary>
/// A web function's raw answer: a web function (<see cref="FunctionOptions.WebEndpoint"/>) that returns this (or a
/// task of it) has its status, body, content type and headers written as they are, rather than its result as JSON.
/// It travels as JSON too (<c>{"statusCode":201,"body":"…","contentType":"…","headers":{…}}</c>), so calling the
/// function from .NET returns the same record.
/// </summary>
/// <param name="StatusCode">The HTTP status code (100-599).</param>
/// <param name="Body">The body as text; null for none.</param>
/// <param name="ContentType">The body's media type (default plain UTF-8 text).</param>
/// <param name="Headers">More response headers; null for none. Hop-by-hop and length headers are the ingress's own.</param>
public sealed record WebResponse(
    int StatusCode,
    string? Body = null,
    string ContentType = "text/plain; charset=utf-8",
    IReadOnlyDictionary<string, string>? Headers = null)
{
    /// <summary>A JSON answer: <paramref name="value"/> serialized as the SDK serializes results.</summary>
    /// <param name="value">The value to write.</param>
    /// <param name="statusCode">The status code (default 200).</param>
    /// <param name="headers">More response headers.</param>
    public static WebResponse Json<T>(T value, int statusCode = 200, IReadOnlyDictionary<string, string>? headers = null) =>
        new(statusCode, System.Text.Json.JsonSerializer.Serialize(value, App.SerializerOptions), "application/json; charset=utf-8", headers);
}
