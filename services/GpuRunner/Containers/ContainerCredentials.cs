using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Apps;
using Modal.GpuRunner.Domain;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// The token each container uses on the platform, its own: issued by the Api for one container of an app, revoked when
/// that container stops (<see cref="RevokeContainerToken"/>), or when its app stops. So that a start does not wait for the
/// Api, one token per app is issued ahead (a spare, asked for when the app is deployed and again whenever a start takes
/// it); no container holds a spare, and the runner revokes the ones it still has when it stops.
/// </summary>
public sealed partial class ContainerCredentials(IBus bus, IOptions<GpuRunnerOptions> options, ILogger<ContainerCredentials> logger)
    : IHostedService
{
    private sealed record HeldToken(Guid WorkspaceId, Guid AppId, string TokenId);

    private sealed record Spare(Guid WorkspaceId, Task<ContainerToken> Issuing);

    /// <summary>Per app, the token the next container of it takes (under <see cref="_sparesLock"/>: no spare is issued twice).</summary>
    private readonly Dictionary<Guid, Spare> _spares = [];
    private readonly Lock _sparesLock = new();

    /// <summary>Per container id, the token it holds.</summary>
    private readonly ConcurrentDictionary<string, HeldToken> _held = new(StringComparer.Ordinal);

    /// <summary>Whether containers get platform access (the runner knows the Api's address).</summary>
    public bool Enabled => options.Value.ApiUrl is not null;

    /// <summary>
    /// The token for <paramref name="containerId"/> of <paramref name="entry"/>: the app's spare when there is one (ready,
    /// or on its way), else one asked for now; the next spare is asked for at once. Null where containers get no access.
    /// Held until <see cref="RevokeAsync"/>.
    /// </summary>
    public async Task<ContainerToken?> TakeAsync(CatalogEntry entry, string containerId, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return null;
        }
        Task<ContainerToken>? spare;
        lock (_sparesLock)
        {
            spare = _spares.Remove(entry.AppId, out var taken) && !taken.Issuing.IsFaulted && !taken.Issuing.IsCanceled ? taken.Issuing : null;
        }
        Prefetch(entry);
        ContainerToken token;
        try
        {
            token = await (spare ?? IssueAsync(entry)).WaitAsync(cancellationToken);
        }
        catch (Exception) when (spare is not null && spare.IsFaulted)
        {
            // The spare failed on its way (the Api was away a moment): ask once more for this start.
            token = await IssueAsync(entry).WaitAsync(cancellationToken);
        }
        _held[containerId] = new HeldToken(entry.WorkspaceId, entry.AppId, token.TokenId);
        return token;
    }

    /// <summary>
    /// Asks for a spare token of the app in the background (a deploy announces containers to come), so a start does not
    /// wait for it. A failure is forgotten here; the next start asks again.
    /// </summary>
    public void Prefetch(CatalogEntry entry)
    {
        if (!Enabled)
        {
            return;
        }
        Spare spare;
        lock (_sparesLock)
        {
            if (_spares.ContainsKey(entry.AppId))
            {
                return;
            }
            spare = new Spare(entry.WorkspaceId, IssueAsync(entry));
            _spares[entry.AppId] = spare;
        }
        _ = spare.Issuing.ContinueWith(_ =>
        {
            lock (_sparesLock)
            {
                if (_spares.TryGetValue(entry.AppId, out var current) && current == spare)
                {
                    _spares.Remove(entry.AppId);
                }
            }
        }, CancellationToken.None, TaskContinuationOptions.NotOnRanToCompletion, TaskScheduler.Default);
    }

    /// <summary>The container stopped (or never started): its token is revoked.</summary>
    public async Task RevokeAsync(string containerId)
    {
        if (!_held.TryRemove(containerId, out var held))
        {
            return;
        }
        await SendRevocationAsync(held, containerId);
    }

    /// <summary>
    /// The app stopped: the Api revoked its tokens, the spare included, so the next deployment's containers need new ones.
    /// </summary>
    public void Forget(Guid appId)
    {
        lock (_sparesLock)
        {
            _spares.Remove(appId);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The runner stops: its containers go with it, and so do their tokens and its spares (while the bus still runs; a
    /// runner that is killed leaves them to its apps' stops).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var revocations = new List<Task>();
        foreach (var containerId in _held.Keys)
        {
            revocations.Add(RevokeAsync(containerId));
        }
        List<(Guid AppId, Spare Spare)> spares;
        lock (_sparesLock)
        {
            spares = _spares.Select(pair => (pair.Key, pair.Value)).ToList();
            _spares.Clear();
        }
        foreach (var (appId, spare) in spares.Where(s => s.Spare.Issuing.IsCompletedSuccessfully))
        {
            revocations.Add(SendRevocationAsync(new HeldToken(spare.WorkspaceId, appId, spare.Issuing.Result.TokenId), containerId: null));
        }
        await Task.WhenAll(revocations).WaitAsync(cancellationToken);
    }

    private async Task SendRevocationAsync(HeldToken held, string? containerId)
    {
        try
        {
            await bus.Publish(new RevokeContainerToken
            {
                WorkspaceId = held.WorkspaceId, AppId = held.AppId, TokenId = held.TokenId, ContainerId = containerId,
            });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A stopping container's release must go on; the token still dies with its app.
            LogRevocationFailed(logger, held.TokenId, containerId ?? "(spare)", e.Message);
        }
    }

    private async Task<ContainerToken> IssueAsync(CatalogEntry entry)
    {
        // Request clients are scoped; this service lives as long as the host, so it makes its own.
        var requests = bus.CreateRequestClient<IssueContainerToken>();
        var response = await requests.GetResponse<ContainerToken>(
            new IssueContainerToken { WorkspaceId = entry.WorkspaceId, AppId = entry.AppId, RunnerId = options.Value.RunnerId },
            CancellationToken.None, RequestTimeout.After(s: 30));
        return response.Message;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not revoke token {TokenId} of container {ContainerId}: {Reason}")]
    private static partial void LogRevocationFailed(ILogger logger, string tokenId, string containerId, string reason);
}
