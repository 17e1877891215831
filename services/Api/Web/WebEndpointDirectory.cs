using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Modal.Api.Calls;
using Modal.Api.Contracts.Web;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;

namespace Modal.Api.Web;

/// <summary>A web endpoint of a running app, as the ingress serves it.</summary>
/// <param name="HostLabel">Its host label (<see cref="WebEndpointNames.HostLabel"/>).</param>
/// <param name="WorkspaceId">The app's workspace.</param>
/// <param name="Target">The function, as the call path resolves it (app, function id, bundle, signature).</param>
/// <param name="FunctionName">The function's name.</param>
/// <param name="Web">How it is served.</param>
public sealed record WebEndpoint(string HostLabel, Guid WorkspaceId, CallTarget Target, string FunctionName, WebEndpointManifest Web)
{
    /// <summary>Whether requests go straight to a container (apps and servers) rather than becoming calls.</summary>
    public bool IsServer { get; } = WebEndpointKinds.IsServer(Web.Kind);
}

/// <summary>
/// Finds the endpoint a host label names. A workspace's endpoints are read from PostgreSQL once, on the first request
/// for one of them, and kept in memory; a deploy or a stop of one of its apps (<c>AppDeployed</c>/<c>AppStopped</c>,
/// heard by every replica, or this replica's own registry) drops them, so a stopped app's URL answers 404 at once and a
/// redeploy is read again. A label of an unknown workspace is remembered as unknown for a short while, so made-up hosts
/// cost one query per workspace name, not one per request.
/// </summary>
public sealed class WebEndpointDirectory(IServiceScopeFactory scopes, TimeProvider clock)
{
    /// <summary>How long a workspace's endpoints are kept without any event (a safety net for a missed event).</summary>
    public static readonly TimeSpan KnownLifetime = TimeSpan.FromMinutes(5);

    /// <summary>How long a workspace name that does not exist is remembered as such.</summary>
    public static readonly TimeSpan UnknownLifetime = TimeSpan.FromSeconds(5);

    /// <summary>Beyond this many cached workspace names the cache starts over, so made-up names cannot grow it without bound.</summary>
    private const int MaxWorkspaces = 10_000;

    private sealed record Table(Guid? WorkspaceId, FrozenDictionary<string, WebEndpoint> Endpoints, DateTimeOffset ExpiresAt)
    {
        public FrozenDictionary<string, WebEndpoint>.AlternateLookup<ReadOnlySpan<char>> Lookup { get; } =
            Endpoints.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private readonly ConcurrentDictionary<string, Table> _tables = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<Task<Table>>> _loads = new(StringComparer.Ordinal);
    private readonly Lock _storing = new();

    // Bumped by every invalidation: a load that began before one must not store what it read.
    private long _generation;

    /// <summary>
    /// The endpoint <paramref name="hostLabel"/> names (case-insensitive), or null. Only a workspace not read yet (or
    /// dropped by a deploy) costs a query; every other lookup is a dictionary read.
    /// </summary>
    public ValueTask<WebEndpoint?> FindAsync(ReadOnlySpan<char> hostLabel, CancellationToken cancellationToken)
    {
        // The workspace is what comes before a "--"; a workspace name may hold "--" itself, so each split is a candidate.
        string? missing = null;
        var now = clock.GetUtcNow();
        for (var at = hostLabel.IndexOf("--"); at > 0; at = NextSplit(hostLabel, at))
        {
            var workspace = hostLabel[..at];
            if (_tables.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(workspace, out var table) && table.ExpiresAt > now)
            {
                if (table.Lookup.TryGetValue(hostLabel, out var endpoint))
                {
                    return ValueTask.FromResult<WebEndpoint?>(endpoint);
                }
            }
            else
            {
                missing ??= "";
            }
        }
        return missing is null ? ValueTask.FromResult<WebEndpoint?>(null) : LoadAndFindAsync(hostLabel.ToString(), cancellationToken);
    }

    private static int NextSplit(ReadOnlySpan<char> hostLabel, int previous)
    {
        var next = hostLabel[(previous + 1)..].IndexOf("--");
        return next < 0 ? -1 : previous + 1 + next;
    }

    private async ValueTask<WebEndpoint?> LoadAndFindAsync(string hostLabel, CancellationToken cancellationToken)
    {
        var lowered = hostLabel.ToLowerInvariant();
        for (var at = lowered.IndexOf("--", StringComparison.Ordinal); at > 0; at = NextSplit(lowered, at))
        {
            var table = await TableAsync(lowered[..at], cancellationToken);
            if (table.Endpoints.TryGetValue(lowered, out var endpoint))
            {
                return endpoint;
            }
        }
        return null;
    }

    private async Task<Table> TableAsync(string workspace, CancellationToken cancellationToken)
    {
        if (_tables.TryGetValue(workspace, out var table) && table.ExpiresAt > clock.GetUtcNow())
        {
            return table;
        }
        var load = _loads.GetOrAdd(workspace, name => new Lazy<Task<Table>>(() => LoadAsync(name)));
        try
        {
            // One caller giving up does not cancel the load the others wait on.
            return await load.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            _loads.TryRemove(KeyValuePair.Create(workspace, load));
        }
    }

    private async Task<Table> LoadAsync(string workspace)
    {
        var generation = Volatile.Read(ref _generation);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ApiDbContext>();
        var workspaceId = await db.Workspaces.AsNoTracking().Where(w => w.Name == workspace).Select(w => (Guid?)w.Id)
            .SingleOrDefaultAsync(CancellationToken.None);
        var endpoints = workspaceId is { } id ? await ReadEndpointsAsync(db, id, workspace, CancellationToken.None) : [];
        var now = clock.GetUtcNow();
        var table = new Table(workspaceId, endpoints.ToFrozenDictionary(e => e.HostLabel, StringComparer.OrdinalIgnoreCase),
            now + (workspaceId is null ? UnknownLifetime : KnownLifetime));
        lock (_storing)
        {
            if (_generation == generation)
            {
                if (_tables.Count >= MaxWorkspaces)
                {
                    _tables.Clear();
                }
                _tables[workspace] = table;
            }
        }
        return table;
    }

    /// <summary>
    /// Every endpoint of the workspace's running apps. Where two endpoints would share a host label (e.g. app
    /// <c>a-b</c> with label <c>c</c> and app <c>a</c> with label <c>b-c</c>, or two runs of one app), the app
    /// deployed last has it.
    /// </summary>
    public static async Task<List<WebEndpoint>> ReadEndpointsAsync(ApiDbContext db, Guid workspaceId, string workspace, CancellationToken cancellationToken)
    {
        var functions = await db.Functions.AsNoTracking()
            .Join(db.Apps.AsNoTracking().Where(a => a.WorkspaceId == workspaceId && a.State != AppStates.Stopped),
                f => f.AppId, a => a.Id, (f, a) => new { Function = f, App = a })
            .OrderByDescending(x => x.App.UpdatedAt)
            .Select(x => new { x.App.Id, x.App.Name, x.App.Ephemeral, x.App.BundleId, FunctionId = x.Function.Id, FunctionName = x.Function.Name, x.Function.ManifestJson })
            .ToListAsync(cancellationToken);
        var endpoints = new List<WebEndpoint>();
        var labels = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in functions)
        {
            var signature = FunctionSignature.Parse(f.ManifestJson);
            if (signature.Web is not { } web)
            {
                continue;
            }
            var label = WebEndpointNames.HostLabel(workspace, f.Name, f.FunctionName, web.Label, f.Ephemeral);
            if (labels.Add(label))
            {
                endpoints.Add(new WebEndpoint(label, workspaceId, new CallTarget(f.Id, f.Name, f.FunctionId, f.BundleId, signature), f.FunctionName, web));
            }
        }
        return endpoints;
    }

    /// <summary>Drops what is known of the workspace's endpoints (an app of it was deployed or stopped).</summary>
    public void Forget(Guid workspaceId)
    {
        lock (_storing)
        {
            _generation++;
            foreach (var (name, table) in _tables)
            {
                if (table.WorkspaceId == workspaceId)
                {
                    _tables.TryRemove(name, out _);
                }
            }
        }
    }
}
