namespace Modal.Api.Domain;

/// <summary>
/// An app of a workspace, known by its id. A deployed app is unique by name while it runs and keeps its id (and its
/// functions' ids, so their queues) across redeploys; every <c>modal run</c> is an app of its own, ephemeral, even
/// when a deployed app has the same name, as on Modal. A stopped app is never started again: a later deploy of the
/// name makes a new app.
/// </summary>
public sealed class DeployedApp
{
    public Guid Id { get; init; }

    public Guid WorkspaceId { get; init; }

    public required string Name { get; init; }

    /// <summary>True for the app of a <c>modal run</c>: it lives while its run does, and is never found by name.</summary>
    public bool Ephemeral { get; init; }

    /// <summary>"Deployed" (persists until stopped), "Ephemeral" (lives while its `modal run` does) or "Stopped".</summary>
    public required string State { get; set; }

    /// <summary>SHA-256 of the app's bundle manifest in Storage; null for an app registered without code.</summary>
    public string? BundleId { get; set; }

    /// <summary>The number of its latest deployment (1 for the first); see <see cref="AppDeployment"/>.</summary>
    public int Version { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? StoppedAt { get; set; }

    public List<DeployedFunction> Functions { get; init; } = [];
}

/// <summary>A function of an app, with the manifest the SDK described it by.</summary>
public sealed class DeployedFunction
{
    public Guid Id { get; init; }

    public Guid AppId { get; init; }

    public required string Name { get; init; }

    /// <summary>The function's manifest (signature and options) as JSON.</summary>
    public required string ManifestJson { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// One deployment of an app (its history, as <c>modal app history</c> shows it): the bundle and the functions'
/// manifests it ran, kept so an earlier version can be told apart from the current one or deployed again.
/// </summary>
public sealed class AppDeployment
{
    public Guid Id { get; init; }

    public Guid AppId { get; init; }

    public int Version { get; init; }

    public string? BundleId { get; init; }

    /// <summary>The functions' manifests of this version, as a JSON array.</summary>
    public required string FunctionsJson { get; init; }

    public DateTimeOffset DeployedAt { get; init; }
}

/// <summary>States of an app, persisted by name.</summary>
public static class AppStates
{
    public const string Deployed = "Deployed";
    public const string Ephemeral = "Ephemeral";
    public const string Stopped = "Stopped";
}
