using Microsoft.AspNetCore.Http;

namespace Modal.GpuRunner.Platform;

/// <summary>
/// Where the platform socket forwards a request: by its authority (<c>Host</c>), to the Api or to Storage, the only
/// services a container may reach; null for any other authority. The socket speaks plain HTTP, so an authority without a
/// port means port 80.
/// </summary>
public sealed class PlatformRoutes
{
    private readonly List<(string Host, int Port, Uri Destination)> _routes = [];

    /// <param name="api">The Api's address as containers know it (<c>MODAL_SERVER_URL</c>).</param>
    /// <param name="storage">Storage's address as the Api hands it out for direct access; null: none.</param>
    public PlatformRoutes(Uri api, Uri? storage)
    {
        ArgumentNullException.ThrowIfNull(api);
        foreach (var destination in storage is null ? [api] : new[] { api, storage })
        {
            _routes.Add((destination.IdnHost, destination.Port, new Uri(destination.GetLeftPart(UriPartial.Authority))));
        }
    }

    /// <summary>The authorities forwarded, for messages (<c>127.0.0.1:5080, 127.0.0.1:5082</c>).</summary>
    public string Description => string.Join(", ", _routes.Select(route => $"{route.Host}:{route.Port}"));

    /// <summary>The destination (scheme and authority) for a request sent to <paramref name="host"/>; null: refused.</summary>
    public Uri? DestinationFor(HostString host)
    {
        if (!host.HasValue)
        {
            return null;
        }
        var port = host.Port ?? 80;
        var name = host.Host.Trim('[', ']');
        foreach (var (routeHost, routePort, destination) in _routes)
        {
            if (port == routePort && string.Equals(name, routeHost.Trim('[', ']'), StringComparison.OrdinalIgnoreCase))
            {
                return destination;
            }
        }
        return null;
    }
}
