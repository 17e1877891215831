using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Modal.Api.Authentication;
using Modal.Api.Infrastructure;

namespace Modal.Api.Web;

/// <summary>
/// Checks the <c>Modal-Key</c>/<c>Modal-Secret</c> pair of a request to a web endpoint that requires proxy auth. The
/// ingress asks on every such request, so answers are kept in memory: a token found for <see cref="ValidLifetime"/>, an
/// unknown id for <see cref="UnknownLifetime"/> (a flood of made-up keys costs one query per key, not per request), and
/// concurrent misses of one id share a single query. A deleted token is forgotten at once on every replica
/// (<see cref="ProxyTokenRevokedConsumer"/>), so the cache lifetimes bound only how soon a new token is seen after an
/// "unknown" answer, never how long a revoked one keeps working.
/// </summary>
public sealed class ProxyTokenValidator(IServiceScopeFactory scopes, TimeProvider clock)
{
    public static readonly TimeSpan ValidLifetime = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan UnknownLifetime = TimeSpan.FromSeconds(3);

    /// <summary>Beyond this many cached ids the cache starts over, so made-up ids cannot grow it without bound.</summary>
    private const int MaxEntries = 100_000;

    /// <summary>A token as last read: <see cref="SecretHash"/> null when no such token exists.</summary>
    private sealed record Entry(Guid WorkspaceId, byte[]? SecretHash, DateTimeOffset ExpiresAt);

    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<Entry>>> loads = new(StringComparer.Ordinal);
    private readonly Lock storing = new();

    // Bumped by every revocation: a lookup that began before one must not cache what it read, since the row it saw may
    // be the one just deleted.
    private long revocations;

    /// <summary>
    /// Whether <paramref name="tokenId"/> is a proxy token of <paramref name="workspaceId"/> and <paramref name="secret"/>
    /// is its secret. Malformed values are refused without a lookup; a failing store throws (the caller answers 5xx,
    /// not 401).
    /// </summary>
    public async ValueTask<bool> ValidateAsync(Guid workspaceId, string tokenId, string secret, CancellationToken cancellationToken)
    {
        if (!ProxyTokenCredentials.IsWellFormedId(tokenId) || !ProxyTokenCredentials.IsWellFormedSecret(secret))
        {
            return false;
        }

        if (!entries.TryGetValue(tokenId, out var entry) || entry.ExpiresAt <= clock.GetUtcNow())
        {
            var load = loads.GetOrAdd(tokenId, id => new Lazy<Task<Entry>>(() => LoadAsync(id)));
            try
            {
                // One caller giving up does not cancel the lookup the others wait on.
                entry = await load.Value.WaitAsync(cancellationToken);
            }
            finally
            {
                loads.TryRemove(KeyValuePair.Create(tokenId, load));
            }
        }

        return entry.SecretHash is not null && entry.WorkspaceId == workspaceId
            && TokenCredentials.SecretMatches(secret, entry.SecretHash);
    }

    /// <summary>The token was deleted: refuse it from now on without waiting for its cache entry to expire.</summary>
    public void Forget(string tokenId)
    {
        lock (storing)
        {
            revocations++;
            entries.TryRemove(tokenId, out _);
        }
    }

    private async Task<Entry> LoadAsync(string tokenId)
    {
        var seenRevocations = Volatile.Read(ref revocations);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApiDbContext>();
        var row = await db.ProxyTokens.AsNoTracking()
            .Where(t => t.Id == tokenId)
            .Select(t => new { t.WorkspaceId, t.SecretHash })
            .SingleOrDefaultAsync(CancellationToken.None);
        var now = clock.GetUtcNow();
        var entry = row is null
            ? new Entry(Guid.Empty, null, now + UnknownLifetime)
            : new Entry(row.WorkspaceId, row.SecretHash, now + ValidLifetime);

        lock (storing)
        {
            if (revocations == seenRevocations)
            {
                if (entries.Count >= MaxEntries)
                {
                    entries.Clear();
                }
                entries[tokenId] = entry;
            }
        }
        return entry;
    }
}
