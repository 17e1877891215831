using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts.Web;
using Modal.Api.Domain;
using Modal.Api.Infrastructure;

namespace Modal.Api.Web;

/// <summary>
/// Makes the URLs of a workspace's endpoints for REST answers: under <see cref="IngressOptions.PublicUrl"/> when set,
/// else under the address the request came in on (its scheme and port, so a URL listed over https is an https one).
/// </summary>
public sealed class WebUrls(IOptions<IngressOptions> options, IServiceScopeFactory scopes)
{
    // Workspace names never change: read once per workspace.
    private readonly ConcurrentDictionary<Guid, string> _workspaceNames = new();

    /// <summary>The URL maker of <paramref name="workspaceId"/>'s endpoints for answers to <paramref name="request"/>.</summary>
    public async Task<WebUrlMaker> ForAsync(HttpRequest request, Guid workspaceId, CancellationToken cancellationToken)
    {
        if (!_workspaceNames.TryGetValue(workspaceId, out var workspace))
        {
            await using var scope = scopes.CreateAsyncScope();
            workspace = await scope.ServiceProvider.GetRequiredService<ApiDbContext>().Workspaces.AsNoTracking()
                .Where(w => w.Id == workspaceId).Select(w => w.Name).SingleAsync(cancellationToken);
            _workspaceNames[workspaceId] = workspace;
        }
        var ingress = options.Value.PublicUrl ?? new Uri($"{request.Scheme}://{request.Host}{request.PathBase}");
        return new WebUrlMaker(workspace, ingress, options.Value.BaseDomain);
    }
}

/// <summary>The URLs of one workspace's endpoints (<see cref="WebUrls"/>).</summary>
public sealed record WebUrlMaker(string Workspace, Uri Ingress, string BaseDomain)
{
    public string HostLabel(string app, bool ephemeral, string function, WebEndpointManifest web) =>
        WebEndpointNames.HostLabel(Workspace, app, function, web.Label, ephemeral);

    /// <summary>The host-form URL of the function's endpoint; null when it is not one.</summary>
    public string? HostUrl(DeployedApp app, string function, FunctionSignature signature) =>
        signature.Web is { } web ? WebEndpointNames.HostUrl(HostLabel(app.Name, app.Ephemeral, function, web), BaseDomain, Ingress) : null;

    public WebEndpointInfo Describe(WebEndpoint endpoint) => new(
        endpoint.Target.AppName, Modal.Api.Contracts.Apps.AppIds.Format(endpoint.Target.AppId), endpoint.FunctionName, endpoint.Web.Kind,
        WebEndpointNames.HostUrl(endpoint.HostLabel, BaseDomain, Ingress), WebEndpointNames.PathUrl(endpoint.HostLabel, Ingress),
        endpoint.Web.RequiresProxyAuth);
}
