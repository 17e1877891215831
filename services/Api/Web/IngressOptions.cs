using System.ComponentModel.DataAnnotations;

namespace Modal.Api.Web;

/// <summary>Settings of the web ingress (section <c>Ingress</c>): how endpoints are named and the bounds of a request.</summary>
public sealed class IngressOptions
{
    public const string SectionName = "Ingress";

    /// <summary>
    /// The domain under which every endpoint gets a host, <c>{workspace}--{app}-{label}.{BaseDomain}</c>. The default,
    /// <c>modal.localhost</c>, needs no DNS set-up for curl and browsers (<c>*.localhost</c> is loopback to them).
    /// </summary>
    [Required, RegularExpression(@"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$", ErrorMessage = "Ingress:BaseDomain is a lowercase DNS name, e.g. modal.localhost.")]
    public string BaseDomain { get; set; } = Modal.Api.Contracts.Web.WebHeaders.DefaultBaseDomain;

    /// <summary>
    /// The ingress's address as clients reach it (e.g. <c>https://api.example.com</c>): the path form of every URL is
    /// under it, and the host form takes its scheme and port. Empty: the address the listing request came in on.
    /// </summary>
    public Uri? PublicUrl { get; set; }

    /// <summary>How long a web function's request waits for the call's result before it is answered 303 to its result URL.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Ingress:WebFunctionTimeout must be between 100 ms and 1 hour.")]
    public TimeSpan WebFunctionTimeout { get; set; } = TimeSpan.FromSeconds(150);

    /// <summary>How long a request to a server waits for a container slot (none up yet, or all at their limit) before a 503.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Ingress:ColdStartWait must be between 0 and 10 minutes.")]
    public TimeSpan ColdStartWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Requests one server endpoint may have waiting for a slot at this replica; more are refused at once with 503.</summary>
    [Range(0, 1_000_000, ErrorMessage = "Ingress:MaxWaitingRequestsPerEndpoint must be between 0 and 1000000.")]
    public int MaxWaitingRequestsPerEndpoint { get; set; } = 1000;

    /// <summary>
    /// Largest body a web function's request may have, in bytes (its arguments are inlined in the call, so at most the
    /// inline limit). Servers' requests are streamed to the container and not limited here.
    /// </summary>
    [Range(0, Modal.Api.Contracts.ApiLimits.MaxInlinePayloadBytes, ErrorMessage = "Ingress:RequestBodyLimit must be between 0 and the inline payload limit (2 MiB).")]
    public int RequestBodyLimit { get; set; } = Modal.Api.Contracts.ApiLimits.MaxInlinePayloadBytes;

    /// <summary>How long a runner may stay silent (no heartbeat) before its containers leave the routing table.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00", ErrorMessage = "Ingress:RunnerSilence must be between 1 second and 10 minutes.")]
    public TimeSpan RunnerSilence { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often each server function's demand (requests in flight and waiting) is reported while it changes or is not zero.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00", ErrorMessage = "Ingress:DemandInterval must be between 50 ms and 1 minute.")]
    public TimeSpan DemandInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}
