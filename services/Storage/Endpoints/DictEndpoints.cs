using Microsoft.AspNetCore.Http.HttpResults;
using Modal.Api.Contracts.Dicts;
using Modal.Api.Contracts.Objects;
using Modal.Storage.Dicts;
using Modal.Storage.Objects;

namespace Modal.Storage.Endpoints;

/// <summary>
/// <c>/v1/dicts</c>: Modal's Dict. Keys are strings (sent in the query string), values any JSON up to 1 MiB, and an
/// entry expires after <see cref="StorageOptions.DictEntryTtl"/> without a read or write.
/// </summary>
public static class DictEndpoints
{
    public static IEndpointRouteBuilder MapDictEndpoints(this IEndpointRouteBuilder routes)
    {
        var dicts = routes.MapObjectGroup(ObjectKind.Dict);
        dicts.MapGet("/{name}/entry", GetEntryAsync).WithName("GetDictEntry");
        dicts.MapPut("/{name}/entry", PutEntryAsync).WithName("PutDictEntry").ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        dicts.MapDelete("/{name}/entry", PopEntryAsync).WithName("PopDictEntry");
        dicts.MapGet("/{name}/contains", ContainsAsync).WithName("DictContains");
        dicts.MapPost("/{name}/entries", UpdateAsync).WithName("UpdateDict").ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        dicts.MapGet("/{name}/entries", ScanAsync).WithName("ListDictEntries");
        dicts.MapDelete("/{name}/entries", ClearAsync).WithName("ClearDict");
        dicts.MapGet("/{name}/len", LenAsync).WithName("DictLen");
        return routes;
    }

    /// <summary>The entry's value; reading it restarts its expiry.</summary>
    public static async Task<JsonBytes<DictValue>> GetEntryAsync(
        string name, string? key, WorkspaceScope workspace, DictStore dicts, CancellationToken cancellationToken) =>
        StoredJsonAnswers.DictValueAnswer(await dicts.GetAsync(workspace.Dict(name), RequireKey(key), cancellationToken));

    /// <summary>Writes the body (JSON) as the entry's value; with <c>skipIfExists</c> only if no live entry has the key, atomically, so one concurrent writer wins.</summary>
    public static async Task<SizedJson<DictPutResult>> PutEntryAsync(
        string name, string? key, bool? skipIfExists, HttpRequest request, WorkspaceScope workspace, DictStore dicts, CancellationToken cancellationToken)
    {
        var entryKey = RequireKey(key);
        using var body = await JsonBodies.ReadAsync(request, StorageLimits.MaxItemBytes, cancellationToken);
        var value = JsonBodies.Item(body.RootElement, $"The value of '{entryKey}'");
        var written = await dicts.PutAsync(workspace.Dict(name), [(entryKey, value)], skipIfExists ?? false, cancellationToken);
        return SizedJson.Ok(new DictPutResult(written == 1));
    }

    /// <summary>Removes the entry and returns its value.</summary>
    public static async Task<JsonBytes<DictValue>> PopEntryAsync(
        string name, string? key, WorkspaceScope workspace, DictStore dicts, CancellationToken cancellationToken) =>
        StoredJsonAnswers.DictValueAnswer(await dicts.PopAsync(workspace.Dict(name), RequireKey(key), cancellationToken));

    public static async Task<SizedJson<DictContains>> ContainsAsync(
        string name, string? key, WorkspaceScope workspace, DictStore dicts, CancellationToken cancellationToken) =>
        SizedJson.Ok(new DictContains(await dicts.ContainsAsync(workspace.Dict(name), RequireKey(key), cancellationToken)));

    /// <summary>Writes every entry of the body, a JSON object of key → value, in one step.</summary>
    public static async Task<NoContent> UpdateAsync(
        string name, HttpRequest request, WorkspaceScope workspace, DictStore dicts, CancellationToken cancellationToken)
    {
        using var body = await JsonBodies.ReadAsync(request, StorageLimits.MaxRequestBytes, cancellationToken);
        if (body.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
        {
            throw new InvalidStorageRequestException("Invalid entries", "The body must be a JSON object of key → value.");
        }
        var entries = body.RootElement.EnumerateObject()
            .Select(p => (RequireKey(p.Name), JsonBodies.Item(p.Value, $"The value of '{p.Name}'")))
            .ToList();
        await dicts.PutAsync(workspace.Dict(name), entries, skipIfExists: false, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>One page of entries in no order; pass the returned cursor back until it is "0".</summary>
    public static async Task<JsonBytes<DictEntriesPage>> ScanAsync(
        string name, string? cursor, int? count, WorkspaceScope workspace, DictStore dicts, CancellationToken cancellationToken)
    {
        cursor ??= "0";
        if (!DictStore.IsValidCursor(cursor) || count is < 1 or > StorageLimits.MaxPageSize)
        {
            throw new InvalidStorageRequestException("Invalid page",
                $"The cursor must be one a previous page returned (or 0), and count 1-{StorageLimits.MaxPageSize}.");
        }
        return StoredJsonAnswers.DictEntriesPageAnswer(await dicts.ScanAsync(workspace.Dict(name), cursor, count ?? 100, cancellationToken));
    }

    public static async Task<NoContent> ClearAsync(string name, WorkspaceScope workspace, DictStore dicts, CancellationToken cancellationToken)
    {
        await dicts.ClearAsync(workspace.Dict(name), cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Ok<ObjectLength>> LenAsync(string name, WorkspaceScope workspace, DictStore dicts, CancellationToken cancellationToken) =>
        TypedResults.Ok(new ObjectLength(await dicts.LenAsync(workspace.Dict(name), cancellationToken)));

    private static string RequireKey(string? key) =>
        ObjectNames.IsValidDictKey(key)
            ? key!
            : throw new InvalidStorageRequestException("Invalid key", $"A Dict key is 1-{StorageLimits.MaxDictKeyBytes} bytes of UTF-8 text.");
}
