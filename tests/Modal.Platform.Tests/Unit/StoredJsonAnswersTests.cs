using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Modal.Api.Contracts.Dicts;
using Modal.Api.Contracts.Queues;
using Modal.Storage.Dicts;
using Modal.Storage.Endpoints;
using Modal.Storage.Objects;

namespace Modal.Platform.Tests.Unit;

/// <summary>Storage writes these answers from stored JSON text by hand: each must be exactly its contract record serialized.</summary>
public sealed class StoredJsonAnswersTests
{
    private const string Stored = """{"a":[1,2.5,null,"x",{"b":true}]}""";

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task DictValueAnswer_Found_IsTheRecordSerialized() =>
        Assert.Equal(
            JsonSerializer.Serialize(new DictValue(true, JsonElement.Parse(Stored)), Web),
            await WriteAsync(StoredJsonAnswers.DictValueAnswer(new RawJson(Stored))));

    [Fact]
    public async Task DictValueAnswer_Missing_IsTheRecordSerialized() =>
        Assert.Equal(JsonSerializer.Serialize(new DictValue(false, null), Web), await WriteAsync(StoredJsonAnswers.DictValueAnswer(null)));

    [Fact]
    public async Task DictEntriesPageAnswer_IsTheRecordSerialized() =>
        Assert.Equal(
            JsonSerializer.Serialize(new DictEntriesPage("17", [new DictEntry("k", JsonElement.Parse(Stored)), new DictEntry("ключ \"q\"", JsonElement.Parse("3"))]), Web),
            await WriteAsync(StoredJsonAnswers.DictEntriesPageAnswer(new DictScan("17", [("k", new RawJson(Stored)), ("ключ \"q\"", new RawJson("3"))]))));

    [Fact]
    public async Task QueueItemsAnswer_IsTheRecordSerialized()
    {
        Assert.Equal(
            JsonSerializer.Serialize(new QueueItems([JsonElement.Parse(Stored), JsonElement.Parse("\"s\"")]), Web),
            await WriteAsync(StoredJsonAnswers.QueueItemsAnswer([new RawJson(Stored), new RawJson("\"s\"")])));
        Assert.Equal(JsonSerializer.Serialize(new QueueItems([]), Web), await WriteAsync(StoredJsonAnswers.QueueItemsAnswer([])));
    }

    private static async Task<string> WriteAsync(IResult result)
    {
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;
        await result.ExecuteAsync(context);
        Assert.Equal(body.Length, context.Response.ContentLength);
        return Encoding.UTF8.GetString(body.ToArray());
    }
}
