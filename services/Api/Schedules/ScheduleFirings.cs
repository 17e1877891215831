using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Modal.Api.Schedules;

/// <summary>One firing of a function's schedule as the Api recorded it: the call it made, for the instant it was due.</summary>
public sealed record ScheduleFiring(string FunctionCallId, DateTimeOffset ScheduledAt);

/// <summary>
/// The firings of each scheduled function, newest first, in Redis beside the calls they made (kept as long as a call,
/// <see cref="ApiOptions.CallRetention"/>), and the claim that makes a firing one call however often it is delivered.
/// </summary>
public sealed class ScheduleFirings(IConnectionMultiplexer redis, IOptions<ApiOptions> options)
{
    /// <summary>Firings kept per function.</summary>
    public const int Kept = 50;

    private const string FiringsPrefix = "modal:schedule:firings:";
    private const string ClaimPrefix = "modal:schedule:claim:";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private IDatabase Database => redis.GetDatabase();

    /// <summary>
    /// True for the first delivery of the firing that makes <paramref name="callId"/>, false for any later one (a
    /// redelivery, or the same tick fired twice during a Scheduler's failover): the first makes the call.
    /// </summary>
    public Task<bool> ClaimAsync(string callId) =>
        Database.StringSetAsync(ClaimPrefix + callId, 1, options.Value.CallRetention, When.NotExists);

    /// <summary>Gives up a claim whose call could not be made, so a retry can make it.</summary>
    public Task ReleaseAsync(string callId) => Database.KeyDeleteAsync(ClaimPrefix + callId);

    /// <summary>Records that <paramref name="functionId"/>'s schedule made <paramref name="firing"/>.</summary>
    public async Task RecordAsync(Guid functionId, ScheduleFiring firing)
    {
        var key = FiringsPrefix + functionId;
        var batch = Database.CreateBatch();
        var push = batch.ListLeftPushAsync(key, JsonSerializer.Serialize(firing, Json));
        var trim = batch.ListTrimAsync(key, 0, Kept - 1);
        var expire = batch.KeyExpireAsync(key, options.Value.CallRetention);
        batch.Execute();
        await Task.WhenAll(push, trim, expire);
    }

    /// <summary>The function's latest firings, newest first (at most <paramref name="count"/>).</summary>
    public async Task<IReadOnlyList<ScheduleFiring>> LatestAsync(Guid functionId, int count)
    {
        var values = await Database.ListRangeAsync(FiringsPrefix + functionId, 0, count - 1);
        return values.Select(value => JsonSerializer.Deserialize<ScheduleFiring>(value.ToString(), Json)!).ToList();
    }
}
