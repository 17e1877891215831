using System.Net.Sockets;

namespace Modal.Container.Protocol;

/// <summary>
/// How HTTP to the platform travels: inside a container, through the platform socket its runner provides
/// (<see cref="ContainerProtocol.PlatformSocketVariable"/>), since the container has no route to the platform's addresses;
/// elsewhere over the network. URLs stay as they are either way, so the runner can tell the Api from Storage by the
/// request's authority. Every HTTP client the SDK makes for the platform takes its handler from here.
/// </summary>
public static class PlatformConnection
{
    /// <summary>The platform socket named by <see cref="ContainerProtocol.PlatformSocketVariable"/>; null where there is none.</summary>
    public static string? SocketPath =>
        Environment.GetEnvironmentVariable(ContainerProtocol.PlatformSocketVariable) is { Length: > 0 } path ? path : null;

    /// <summary>
    /// A handler for requests to the platform: every connection goes to <paramref name="socketPath"/> (by default
    /// <see cref="SocketPath"/>) when there is one, else to the request's host over the network.
    /// </summary>
    /// <param name="allowAutoRedirect">Whether the handler follows redirects itself.</param>
    /// <param name="socketPath">The platform socket; null: <see cref="SocketPath"/>.</param>
    public static SocketsHttpHandler CreateHandler(bool allowAutoRedirect = true, string? socketPath = null)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = allowAutoRedirect,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        };
        if ((socketPath ?? SocketPath) is not { } path)
        {
            return handler;
        }
        // A proxy setting in the container's environment must not send platform requests anywhere but the socket.
        handler.UseProxy = false;
        var endpoint = new UnixDomainSocketEndPoint(path);
        handler.ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
        return handler;
    }
}
