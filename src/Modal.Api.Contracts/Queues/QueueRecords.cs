using System.Text.Json;

namespace Modal.Api.Contracts.Queues;

/// <summary>Items taken from, or read from, a Queue.</summary>
/// <param name="Items">The items as JSON, oldest first.</param>
public sealed record QueueItems(IReadOnlyList<JsonElement> Items);

/// <summary>Answer to a Queue put.</summary>
/// <param name="PartitionLength">Items in the partition after the put.</param>
public sealed record QueuePutResult(long PartitionLength);
