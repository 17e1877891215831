using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Modal.Storage.Objects;

/// <summary>
/// A JSON value kept as its text: Dict values and Queue items are stored in Redis as the JSON the client sent and
/// written back verbatim, never parsed into objects on the way out.
/// </summary>
[JsonConverter(typeof(RawJsonConverter))]
public readonly record struct RawJson(string Text)
{
    public int ByteCount => Encoding.UTF8.GetByteCount(Text);
}

public sealed class RawJsonConverter : JsonConverter<RawJson>
{
    public override RawJson Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return new RawJson(document.RootElement.GetRawText());
    }

    public override void Write(Utf8JsonWriter writer, RawJson value, JsonSerializerOptions options) =>
        // Stored text was validated as JSON when it came in.
        writer.WriteRawValue(value.Text, skipInputValidation: true);
}

/// <summary>Reads a request body as JSON with a size limit, so an oversized body is a 413 and not a buffered gigabyte.</summary>
public static class JsonBodies
{
    public static async Task<JsonDocument> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            throw new PayloadTooLargeException($"The request body is {request.ContentLength} bytes; the limit is {maxBytes} bytes.");
        }
        if (request.ContentLength is { } length)
        {
            // The usual case (a Dict value, a few Queue items): one read into a buffer of the exact size.
            var body = new byte[length];
            await request.Body.ReadExactlyAsync(body, cancellationToken);
            return Parse(body);
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                throw new PayloadTooLargeException($"The request body is over the limit of {maxBytes} bytes.");
            }
            buffer.Write(chunk, 0, read);
        }
        return Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> json)
    {
        try
        {
            return JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidStorageRequestException("Invalid JSON", $"The request body is not valid JSON: {e.Message}");
        }
    }

    /// <summary>One item's JSON text, refused with 413 over <see cref="StorageLimits.MaxItemBytes"/> (as Modal's 1 MiB).</summary>
    public static RawJson Item(JsonElement element, string what)
    {
        var item = new RawJson(element.GetRawText());
        if (item.ByteCount > StorageLimits.MaxItemBytes)
        {
            throw new PayloadTooLargeException(
                $"{what} is {item.ByteCount} bytes of JSON; the limit is {StorageLimits.MaxItemBytes} bytes (1 MiB).");
        }
        return item;
    }
}
