using System.Buffers;
using System.Text.Json;
using Modal.Api.Contracts.Dicts;
using Modal.Api.Contracts.Queues;
using Modal.Storage.Dicts;
using Modal.Storage.Objects;

namespace Modal.Storage.Endpoints;

/// <summary>
/// The answers that carry Dict values and Queue items (<see cref="DictValue"/>, <see cref="DictEntriesPage"/>,
/// <see cref="QueueItems"/>), written from the JSON text they are stored as (<see cref="RawJson"/>): the records hold
/// <see cref="JsonElement"/>s, and building those would parse every value on the way out. The field names are taken
/// from the records (camelCase, as the web JSON defaults write them), so an answer is what serializing the record gives.
/// </summary>
public static class StoredJsonAnswers
{
    private static readonly JsonEncodedText Found = Name(nameof(DictValue.Found)), Value = Name(nameof(DictValue.Value)),
        Cursor = Name(nameof(DictEntriesPage.Cursor)), Entries = Name(nameof(DictEntriesPage.Entries)), Key = Name(nameof(DictEntry.Key)),
        Items = Name(nameof(QueueItems.Items));

    public static JsonBytes<DictValue> DictValueAnswer(RawJson? value) => Write<DictValue>(json =>
    {
        json.WriteStartObject();
        json.WriteBoolean(Found, value is not null);
        json.WritePropertyName(Value);
        if (value is { } stored)
        {
            json.WriteRawValue(stored.Text, skipInputValidation: true);
        }
        else
        {
            json.WriteNullValue();
        }
        json.WriteEndObject();
    });

    public static JsonBytes<DictEntriesPage> DictEntriesPageAnswer(DictScan scan) => Write<DictEntriesPage>(json =>
    {
        json.WriteStartObject();
        json.WriteString(Cursor, scan.Cursor);
        json.WriteStartArray(Entries);
        foreach (var (key, value) in scan.Entries)
        {
            json.WriteStartObject();
            json.WriteString(Key, key);
            json.WritePropertyName(Value);
            json.WriteRawValue(value.Text, skipInputValidation: true);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    });

    public static JsonBytes<QueueItems> QueueItemsAnswer(IReadOnlyList<RawJson> items) => Write<QueueItems>(json =>
    {
        json.WriteStartObject();
        json.WriteStartArray(Items);
        foreach (var item in items)
        {
            // Stored text was validated as JSON when it came in.
            json.WriteRawValue(item.Text, skipInputValidation: true);
        }
        json.WriteEndArray();
        json.WriteEndObject();
    });

    private static JsonEncodedText Name(string property) => JsonEncodedText.Encode(JsonNamingPolicy.CamelCase.ConvertName(property));

    private static JsonBytes<T> Write<T>(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }
        return new JsonBytes<T>(buffer.WrittenMemory);
    }
}
