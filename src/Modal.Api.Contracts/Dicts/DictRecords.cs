using System.Text.Json;

namespace Modal.Api.Contracts.Dicts;

/// <summary>A looked-up Dict entry.</summary>
/// <param name="Found">False when the key has no entry (or it expired).</param>
/// <param name="Value">The value as JSON, when found.</param>
public sealed record DictValue(bool Found, JsonElement? Value);

/// <summary>Answer to a Dict put.</summary>
/// <param name="Written">False when <c>skipIfExists</c> found an entry and wrote nothing.</param>
public sealed record DictPutResult(bool Written);

/// <summary>Answer to a Dict key test.</summary>
/// <param name="Contains">Whether the key has a live entry.</param>
public sealed record DictContains(bool Contains);

/// <summary>One Dict entry.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value as JSON.</param>
public sealed record DictEntry(string Key, JsonElement Value);

/// <summary>One page of a Dict's entries, in no order.</summary>
/// <param name="Cursor">Pass it back for the next page; "0" means there are no more.</param>
/// <param name="Entries">The entries (possibly none before the end; an entry may come twice while the Dict grows).</param>
public sealed record DictEntriesPage(string Cursor, IReadOnlyList<DictEntry> Entries);
