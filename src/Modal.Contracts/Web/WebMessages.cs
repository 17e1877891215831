namespace Modal.Contracts.Web;

/// <summary>What a runner and the Scheduler need to know of a function served over HTTP (part of <c>DeployedFunctionSpec</c>).</summary>
public sealed record WebEndpointSpec
{
    /// <summary>"Function" (requests become calls), "AspNetApp" or "Server" (requests go straight to a container).</summary>
    public required string Kind { get; init; }

    /// <summary>The port a "Server" listens on inside its container; null otherwise.</summary>
    public int? Port { get; init; }

    /// <summary>How long a server container may take to accept connections once its [Enter] hooks ran.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether requests skip the queue (apps and servers): they scale on in-flight requests, not on backlog.</summary>
    public bool IsServer => Kind is "AspNetApp" or "Server";
}

/// <summary>
/// Event (runner → every ingress): a server container of a function is ready for requests, reached through this
/// runner's web forwarder at <see cref="ForwarderUrl"/> with header <c>Modal-Container-Id</c> and the runner key.
/// Runners also repeat their ready web containers in every heartbeat, so an ingress that starts later learns them.
/// </summary>
public sealed record WebContainerReady
{
    public required string ContainerId { get; init; }
    public required string RunnerId { get; init; }
    public required Guid FunctionId { get; init; }

    /// <summary>The runner's web forwarder, e.g. <c>http://10.0.0.5:5080</c>.</summary>
    public required Uri ForwarderUrl { get; init; }

    /// <summary>Requests one container takes at once (the function's MaxConcurrentInputs).</summary>
    public required int MaxConcurrentRequests { get; init; }

    public required DateTimeOffset ReadyAt { get; init; }
}

/// <summary>
/// Event (each ingress → Scheduler, every half second while it changes, and at once when a request finds no container):
/// the server function's requests in flight at that ingress and those waiting for a container slot. The Scheduler
/// sums the latest report of every ingress and scales the function's containers on it (scale from zero included).
/// </summary>
public sealed record WebEndpointDemand
{
    /// <summary>The reporting ingress (an Api replica), so reports of several add up and a silent one expires.</summary>
    public required string IngressId { get; init; }
    public required Guid FunctionId { get; init; }

    /// <summary>Requests being served by containers now.</summary>
    public required int InFlight { get; init; }

    /// <summary>Requests waiting for a container (none up yet, or all at their limit).</summary>
    public required int Waiting { get; init; }

    public required DateTimeOffset ReportedAt { get; init; }
}

/// <summary>Event (Api → every ingress): a proxy-auth token was revoked; ingresses forget it at once.</summary>
public sealed record ProxyTokenRevoked
{
    public required Guid WorkspaceId { get; init; }
    public required string TokenId { get; init; }
}
