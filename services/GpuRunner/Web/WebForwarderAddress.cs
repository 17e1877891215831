using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Modal.GpuRunner.Web;

/// <summary>
/// Where ingresses reach this runner's web forwarder: <c>GpuRunner:WebForwarderUrl</c>, else the first HTTP address the
/// runner's own server listens on, read once it has started (before that, a configured port 0 is not yet a port). A
/// wildcard host (<c>+</c>, <c>*</c>, <c>0.0.0.0</c>, <c>[::]</c>) becomes the machine's name. Null while unknown (a
/// runner hosted without a network server, as in some tests).
/// </summary>
public sealed class WebForwarderAddress(IServer server, IHostApplicationLifetime lifetime, IOptions<GpuRunnerOptions> options)
{
    private Uri? _derived;

    /// <summary>The forwarder's base address; null while it is not known.</summary>
    public Uri? Url => options.Value.WebForwarderUrl ?? (_derived ??= Derive());

    private Uri? Derive()
    {
        if (!lifetime.ApplicationStarted.IsCancellationRequested
            || server.Features.Get<IServerAddressesFeature>()?.Addresses is not { Count: > 0 } addresses)
        {
            return null;
        }
        var listening = addresses
            .Select(address => Microsoft.AspNetCore.Http.BindingAddress.Parse(address))
            .Where(address => !address.IsUnixPipe && address.Scheme is "http" or "https")
            .OrderBy(address => address.Scheme == "http" ? 0 : 1)
            .FirstOrDefault();
        if (listening is null)
        {
            return null;
        }
        var host = listening.Host is "+" or "*" or "0.0.0.0" or "[::]" or "::" ? Dns.GetHostName() : listening.Host;
        return new UriBuilder(listening.Scheme, host, listening.Port).Uri;
    }
}
