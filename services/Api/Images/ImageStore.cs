using System.Text.Json;
using Modal.Api.Contracts.Images;
using Modal.Contracts.Images;
using StackExchange.Redis;

namespace Modal.Api.Images;

/// <summary>
/// What the Api knows of a workspace's images, in Redis: the built layers by key (an index of blobs in Storage: losing
/// it costs a rebuild, never a wrong image), the images deploys asked for (<c>modal image list</c>), the build claim that
/// makes two deploys of one new image build it once, and each build's log as a stream every waiting deploy reads.
/// </summary>
public sealed class ImageStore(IConnectionMultiplexer redis, TimeProvider clock)
{
    private const string LayersPrefix = "modal:images:layers:";
    private const string ImagesPrefix = "modal:images:used:";
    private const string ClaimPrefix = "modal:images:claim:";
    private const string LogPrefix = "modal:images:log:";

    /// <summary>How long a finished build's log stays readable (a deploy that joined late reads its outcome there).</summary>
    private static readonly TimeSpan LogRetention = TimeSpan.FromMinutes(30);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private IDatabase Database => redis.GetDatabase();

    /// <summary>The layers of <paramref name="keys"/> that are built (null where not), in order.</summary>
    public async Task<IReadOnlyList<ImageLayer?>> GetLayersAsync(Guid workspaceId, IReadOnlyList<string> keys)
    {
        var values = await Database.HashGetAsync(LayersPrefix + workspaceId, [.. keys.Select(k => (RedisValue)k)]);
        return values.Select(v => v.IsNull ? null : JsonSerializer.Deserialize<ImageLayer>(v.ToString(), Json)).ToList();
    }

    /// <summary>Records built layers.</summary>
    public Task AddLayersAsync(Guid workspaceId, IReadOnlyList<ImageLayer> layers) =>
        layers.Count == 0
            ? Task.CompletedTask
            : Database.HashSetAsync(LayersPrefix + workspaceId, [.. layers.Select(l => new HashEntry(l.Key, JsonSerializer.Serialize(l, Json)))]);

    /// <summary>Records that a deploy asked for an image (its definition, and its size once built).</summary>
    public Task TouchImageAsync(Guid workspaceId, ImageManifest image, ImageLayer? last) =>
        Database.HashSetAsync(ImagesPrefix + workspaceId, image.Id, JsonSerializer.Serialize(
            new ImageInfo(image.Id, string.Join(".", image.Steps.Select(ImageStepKinds.Describe)), last?.SizeBytes ?? 0, last?.BuiltAt ?? default,
                clock.GetUtcNow()), Json));

    /// <summary>Fills in the size and build time of an image a deploy asked for, once built.</summary>
    public async Task MarkBuiltAsync(Guid workspaceId, string imageId, ImageLayer last)
    {
        if (await Database.HashGetAsync(ImagesPrefix + workspaceId, imageId) is { IsNull: false } value
            && JsonSerializer.Deserialize<ImageInfo>(value.ToString(), Json) is { } info)
        {
            await Database.HashSetAsync(ImagesPrefix + workspaceId, imageId,
                JsonSerializer.Serialize(info with { SizeBytes = last.SizeBytes, BuiltAt = last.BuiltAt }, Json));
        }
    }

    /// <summary>The workspace's images, most recently used first.</summary>
    public async Task<IReadOnlyList<ImageInfo>> ListImagesAsync(Guid workspaceId)
    {
        var entries = await Database.HashGetAllAsync(ImagesPrefix + workspaceId);
        return entries.Select(e => JsonSerializer.Deserialize<ImageInfo>(e.Value.ToString(), Json)!).OrderByDescending(i => i.LastUsedAt).ToList();
    }

    /// <summary>
    /// Claims the build of an image for <paramref name="buildId"/>; false when another build holds it. The claim lapses
    /// after <paramref name="lease"/> (a runner that died mid-build does not block the image for ever).
    /// </summary>
    public Task<bool> ClaimAsync(Guid workspaceId, string imageId, Guid buildId, TimeSpan lease) =>
        Database.StringSetAsync(ClaimKey(workspaceId, imageId), buildId.ToString(), lease, When.NotExists);

    /// <summary>The build that holds the image's claim, if any.</summary>
    public async Task<Guid?> ClaimedByAsync(Guid workspaceId, string imageId) =>
        await Database.StringGetAsync(ClaimKey(workspaceId, imageId)) is { IsNull: false } value && Guid.TryParse(value.ToString(), out var id) ? id : null;

    /// <summary>Gives the claim up if <paramref name="buildId"/> still holds it.</summary>
    public Task ReleaseAsync(Guid workspaceId, string imageId, Guid buildId) =>
        Database.ScriptEvaluateAsync(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end",
            [ClaimKey(workspaceId, imageId)], [buildId.ToString()]);

    /// <summary>Appends lines to a build's log.</summary>
    public async Task AppendLogAsync(Guid workspaceId, Guid buildId, IReadOnlyList<string> lines)
    {
        var key = LogKey(workspaceId, buildId);
        foreach (var line in lines)
        {
            await Database.StreamAddAsync(key, "log", line);
        }
        await Database.KeyExpireAsync(key, LogRetention);
    }

    /// <summary>Appends a build's outcome, the last entry of its log.</summary>
    public async Task AppendResultAsync(Guid workspaceId, Guid buildId, ImageBuildResult result)
    {
        var key = LogKey(workspaceId, buildId);
        await Database.StreamAddAsync(key, "result", JsonSerializer.Serialize(result, Json));
        await Database.KeyExpireAsync(key, LogRetention);
    }

    /// <summary>Entries of a build's log after <paramref name="after"/> (<c>0-0</c> for all), in order.</summary>
    public async Task<IReadOnlyList<(string Id, ImageBuildEvent Event)>> ReadLogAsync(Guid workspaceId, Guid buildId, string after)
    {
        var entries = await Database.StreamRangeAsync(LogKey(workspaceId, buildId), minId: after == "0-0" ? "-" : "(" + after, maxId: "+", count: 500);
        return entries.Select(e =>
        {
            var field = e.Values[0];
            var buildEvent = field.Name == "result"
                ? new ImageBuildEvent(Result: JsonSerializer.Deserialize<ImageBuildResult>(field.Value.ToString(), Json))
                : new ImageBuildEvent(Log: field.Value.ToString());
            return (e.Id.ToString(), buildEvent);
        }).ToList();
    }

    // Under the workspace: a build id read from another workspace's log finds nothing.
    private static string LogKey(Guid workspaceId, Guid buildId) => $"{LogPrefix}{workspaceId}:{buildId}";

    private static string ClaimKey(Guid workspaceId, string imageId) => $"{ClaimPrefix}{workspaceId}:{imageId}";
}
