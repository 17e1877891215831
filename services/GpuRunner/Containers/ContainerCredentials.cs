using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Apps;
using Modal.GpuRunner.Domain;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// What lets a function use the platform from inside its container: the Api's address and a token of its app
/// (<c>MODAL_SERVER_URL</c>, <c>MODAL_TOKEN_ID</c>, <c>MODAL_TOKEN_SECRET</c>, as the SDK reads them). One token per app
/// on this runner, asked of the Api once; the Api revokes it when the app stops.
/// </summary>
public sealed class ContainerCredentials(IBus bus, IOptions<GpuRunnerOptions> options)
{
    private readonly ConcurrentDictionary<Guid, Lazy<Task<ContainerToken>>> _tokens = new();

    public async Task<IReadOnlyDictionary<string, string>> EnvironmentForAsync(CatalogEntry entry, CancellationToken cancellationToken)
    {
        if (options.Value.ApiUrl is not { } api)
        {
            return new Dictionary<string, string>();
        }
        var issuing = _tokens.GetOrAdd(entry.AppId, _ => new Lazy<Task<ContainerToken>>(() => IssueAsync(entry)));
        ContainerToken token;
        try
        {
            token = await issuing.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (issuing.Value.IsFaulted)
        {
            _tokens.TryRemove(new KeyValuePair<Guid, Lazy<Task<ContainerToken>>>(entry.AppId, issuing));
            throw;
        }
        return new Dictionary<string, string>
        {
            ["MODAL_SERVER_URL"] = api.ToString(),
            ["MODAL_TOKEN_ID"] = token.TokenId,
            ["MODAL_TOKEN_SECRET"] = token.TokenSecret,
        };
    }

    /// <summary>
    /// Asks for the app's token in the background (a deploy announces containers to come), so the first container's
    /// start does not wait for it. A failure is forgotten here and retried by that start.
    /// </summary>
    public void Prefetch(CatalogEntry entry)
    {
        if (options.Value.ApiUrl is null)
        {
            return;
        }
        var issuing = _tokens.GetOrAdd(entry.AppId, _ => new Lazy<Task<ContainerToken>>(() => IssueAsync(entry)));
        _ = issuing.Value.ContinueWith(
            _ => _tokens.TryRemove(new KeyValuePair<Guid, Lazy<Task<ContainerToken>>>(entry.AppId, issuing)),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>The app stopped: its token is revoked, so the next deployment's containers need a new one.</summary>
    public void Forget(Guid appId) => _tokens.TryRemove(appId, out _);

    private async Task<ContainerToken> IssueAsync(CatalogEntry entry)
    {
        // Request clients are scoped; this service lives as long as the host, so it makes its own.
        var requests = bus.CreateRequestClient<IssueContainerToken>();
        var response = await requests.GetResponse<ContainerToken>(
            new IssueContainerToken { WorkspaceId = entry.WorkspaceId, AppId = entry.AppId, RunnerId = options.Value.RunnerId },
            CancellationToken.None, RequestTimeout.After(s: 30));
        return response.Message;
    }
}
