using System.Collections.Concurrent;
using System.Security.Cryptography;
using Modal.Storage.Blobs;
using Modal.Storage.Objects;

namespace Modal.Storage.Volumes;

/// <summary>A Volume's current version: the id (hash of its manifest blob; "" for a Volume never written) and manifest.</summary>
public sealed record VolumeVersion(string Id, VolumeManifest Manifest);

/// <summary>
/// Volumes: each version is a manifest blob (see <see cref="VolumeManifest"/>) and the Volume's current version is one
/// Redis key next to its registry entry (<c>…:volume:{name}:head</c>). A commit reads the head, applies its edit to that
/// manifest, stores the result and moves the head only if it still names the version it started from (compare-and-set
/// in Lua), else starts again from the newer head: commits never lose each other's files, and of two writes to one
/// path the later commit's wins.
/// </summary>
public sealed class VolumeStore(ObjectRegistry registry, BlobStore blobs)
{
    private const string ReadHeadScript = "return redis.call('GET', KEYS[3]) or ''";

    // ARGV[2] = the head the edit started from ('' for none), ARGV[3] = the new head.
    private const string MoveHeadScript = """
        if (redis.call('GET', KEYS[3]) or '') ~= ARGV[2] then
          return 0
        end
        redis.call('SET', KEYS[3], ARGV[3])
        return 1
        """;

    private const int MaxCommitAttempts = 50;

    // Manifests are immutable, so any one read is valid forever; a few recent ones are kept because every read of a
    // Volume starts from its manifest (a 10,000-file manifest is ~1.5 MB of JSON).
    private readonly ConcurrentDictionary<string, VolumeManifest> _manifests = new(StringComparer.Ordinal);
    private const int MaxCachedManifests = 32;

    public async Task<VolumeVersion> GetAsync(ObjectRef volume, CancellationToken cancellationToken)
    {
        var head = (await registry.EvaluateAsync(volume, ReadHeadScript, [volume.Data("head")], [], cancellationToken)).ToString();
        return new VolumeVersion(head, await LoadAsync(head, cancellationToken));
    }

    /// <summary>
    /// Applies <paramref name="edit"/> to the latest version and makes the result current, retrying on a concurrent
    /// commit. <paramref name="edit"/> may run several times and throws to refuse the change.
    /// </summary>
    public async Task<VolumeVersion> CommitAsync(ObjectRef volume, Action<VolumeEdit> edit, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var latest = await GetAsync(volume, cancellationToken);
            var working = new VolumeEdit(latest.Manifest);
            edit(working);
            var manifest = working.ToManifest();
            var bytes = manifest.Serialize();
            var id = Convert.ToHexStringLower(SHA256.HashData(bytes));
            if (id == latest.Id)
            {
                return latest;
            }
            using (var content = new MemoryStream(bytes, writable: false))
            {
                await blobs.PutAsync(id, content, bytes.Length, proveContent: false, cancellationToken);
            }
            var moved = (int)await registry.EvaluateAsync(volume, MoveHeadScript, [volume.Data("head")], [latest.Id, id], cancellationToken);
            if (moved == 1)
            {
                Remember(id, manifest);
                return new VolumeVersion(id, manifest);
            }
            if (attempt == MaxCommitAttempts)
            {
                throw new InvalidOperationException($"{volume}: {MaxCommitAttempts} commits in a row lost the race to concurrent ones.");
            }
            // Lost the race to another commit: wait a little (less contention) and re-apply to the newer version.
            await Task.Delay(Random.Shared.Next(1, 10 * attempt), cancellationToken);
        }
    }

    private async Task<VolumeManifest> LoadAsync(string id, CancellationToken cancellationToken)
    {
        if (id.Length == 0)
        {
            return VolumeManifest.Empty;
        }
        if (_manifests.TryGetValue(id, out var cached))
        {
            return cached;
        }
        using var buffer = new MemoryStream();
        if (!await blobs.CopyToAsync(id, buffer, cancellationToken))
        {
            throw new InvalidDataException($"The manifest blob {id} of a Volume version is missing from storage.");
        }
        var manifest = VolumeManifest.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        Remember(id, manifest);
        return manifest;
    }

    private void Remember(string id, VolumeManifest manifest)
    {
        if (_manifests.Count >= MaxCachedManifests)
        {
            _manifests.Clear();
        }
        _manifests[id] = manifest;
    }
}
