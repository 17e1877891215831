using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Modal.Api.Contracts.Apps;

namespace Modal.Api.Apps;

/// <summary>
/// Every line an app's functions print, across calls, as a Redis stream per app (the latest
/// <see cref="MaxLines"/>, kept as long as call state), so <c>modal run</c> and <c>modal app logs</c> can follow them.
/// </summary>
public sealed class AppLogStore(IConnectionMultiplexer redis, IOptions<ApiOptions> options)
{
    public const int MaxLines = 10_000;

    private readonly IDatabase _redis = redis.GetDatabase();

    private static RedisKey Key(Guid appId) => $"modal:app:{appId:N}:logs";

    public async Task AppendAsync(Guid appId, string function, string callId, int attempt, IEnumerable<Modal.Contracts.Calls.LogLine> lines)
    {
        var key = Key(appId);
        var batch = _redis.CreateBatch();
        var writes = lines.Select(line => batch.StreamAddAsync(key,
            [
                new("fn", function), new("call", callId), new("attempt", attempt), new("stream", line.Stream), new("text", line.Text),
                new("at", line.At.ToUnixTimeMilliseconds()),
            ], maxLength: MaxLines, useApproximateMaxLength: true)).ToList<Task>();
        writes.Add(batch.KeyExpireAsync(key, options.Value.CallRetention));
        batch.Execute();
        await Task.WhenAll(writes);
    }

    /// <summary>Lines after position <paramref name="after"/> (null: from the oldest kept), at most <paramref name="count"/>.</summary>
    public async Task<IReadOnlyList<AppLogLine>> ReadAsync(Guid appId, string? after, int count)
    {
        // An exclusive start ("(id") reads strictly after the last line a client saw.
        var entries = await _redis.StreamRangeAsync(Key(appId), after is null ? "-" : $"({after}", "+", count);
        return entries.Select(entry =>
        {
            var values = entry.Values.ToDictionary(v => v.Name.ToString(), v => v.Value);
            return new AppLogLine(entry.Id.ToString(), values["fn"].ToString(), values["call"].ToString(), (int)values["attempt"],
                values["stream"].ToString(), values["text"].ToString(), DateTimeOffset.FromUnixTimeMilliseconds((long)values["at"]));
        }).ToList();
    }
}
