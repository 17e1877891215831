namespace Modal.Contracts.Apps;

/// <summary>
/// An app was deployed (or redeployed) with a runnable bundle. Runners start consuming its functions' queues; the
/// bundle is fetched from Storage by <see cref="BundleId"/> when a container first needs it.
/// </summary>
public sealed record AppDeployed
{
    public required Guid WorkspaceId { get; init; }
    public required Guid AppId { get; init; }
    public required string AppName { get; init; }

    /// <summary>SHA-256 of the bundle manifest blob in Storage.</summary>
    public required string BundleId { get; init; }

    public required IReadOnlyList<DeployedFunctionSpec> Functions { get; init; }
    public required DateTimeOffset DeployedAt { get; init; }

    /// <summary>The app's version this deploy made (1 for the first); a redeploy makes the next one.</summary>
    public int Version { get; init; }
}

/// <summary>What a runner needs to run one function.</summary>
public sealed record DeployedFunctionSpec
{
    public required Guid FunctionId { get; init; }
    public required string Name { get; init; }
    public required int MaxConcurrentInputs { get; init; }
    public required TimeSpan Timeout { get; init; }

    /// <summary>Retries after the first attempt (0: none).</summary>
    public int MaxRetries { get; init; }
    public double BackoffCoefficient { get; init; } = 1;
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>GPU request (<c>"T4"</c>, <c>"A100-80GB:2"</c>, <c>"any"</c>); null for none.</summary>
    public string? Gpu { get; init; }

    /// <summary>GPU types to try, in order, when <see cref="Gpu"/> is not free.</summary>
    public IReadOnlyList<string> GpuFallbacks { get; init; } = [];

    /// <summary>Volumes to mount: absolute mount path → Volume name (of the app's workspace).</summary>
    public IReadOnlyDictionary<string, string> Volumes { get; init; } = new Dictionary<string, string>();

    /// <summary>The class this function is a method of; a class's methods share its containers (and instance). Null for a plain function.</summary>
    public string? ClassName { get; init; }

    /// <summary>
    /// Secrets whose values become the container's environment, in order (a later one wins on a shared key). Names only:
    /// a runner reads the values from the Secrets service when it starts a container.
    /// </summary>
    public IReadOnlyList<SecretReference> Secrets { get; init; } = [];

    /// <summary>CPU cores the container is guaranteed (a share of the node's CPU under contention, not a cap).</summary>
    public double Cpu { get; init; } = 0.125;

    /// <summary>Memory limit of the container in MiB: a container that goes past it is killed and its call fails.</summary>
    public long MemoryMiB { get; init; } = 128;

    /// <summary>The container has no network at all (only loopback of its own); otherwise it shares the node's.</summary>
    public bool BlockNetwork { get; init; }

    /// <summary>Containers kept running even with no work.</summary>
    public int MinContainers { get; init; }

    /// <summary>Cap on containers; null for none.</summary>
    public int? MaxContainers { get; init; }

    /// <summary>Extra idle containers kept while the function has work.</summary>
    public int BufferContainers { get; init; }

    /// <summary>How long a container may sit idle before it is stopped.</summary>
    public TimeSpan ScaledownWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Each container runs one input, then exits.</summary>
    public bool SingleUseContainers { get; init; }

    /// <summary>How the function is served over HTTP; null when it is not a web endpoint.</summary>
    public Web.WebEndpointSpec? Web { get; init; }

    /// <summary>When the function runs by itself while its app is deployed; null for none.</summary>
    public Schedules.ScheduleSpec? Schedule { get; init; }

    /// <summary>The container's root file system (a built image); null: the node's own system, read-only.</summary>
    public Images.ImageRootSpec? Image { get; init; }
}

/// <summary>A function's use of a named secret of its workspace: the keys it must have.</summary>
public sealed record SecretReference
{
    public required string Name { get; init; }
    public IReadOnlyList<string> RequiredKeys { get; init; } = [];
}

/// <summary>An app was stopped: its containers stop (running their exit hooks) and inputs still queued fail.</summary>
public sealed record AppStopped
{
    public required Guid WorkspaceId { get; init; }
    public required Guid AppId { get; init; }
    public required string AppName { get; init; }
    public required IReadOnlyList<Guid> FunctionIds { get; init; }
    public required DateTimeOffset StoppedAt { get; init; }
}

/// <summary>Request (runner → Api, at runner start): every app that is deployed now, answered with <see cref="DeployedApps"/>.</summary>
public sealed record ListDeployedApps
{
    public required string RunnerId { get; init; }
}

/// <summary>
/// Request (Scheduler → Api, at Scheduler start): every app that is deployed now, so the autoscaler knows their
/// functions; answered with <see cref="DeployedApps"/>.
/// </summary>
public sealed record ListDeployedAppsToScale;

/// <summary>Answer to <see cref="ListDeployedApps"/> and <see cref="ListDeployedAppsToScale"/>.</summary>
public sealed record DeployedApps
{
    public required IReadOnlyList<AppDeployed> Apps { get; init; }
}
