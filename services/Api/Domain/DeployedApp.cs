namespace Modal.Api.Domain;

/// <summary>An app of a workspace. Its functions keep their ids across deploys, so their queues stay the same.</summary>
public sealed class DeployedApp
{
    public Guid Id { get; init; }

    public Guid WorkspaceId { get; init; }

    public required string Name { get; init; }

    /// <summary>"Deployed" (persists until stopped), "Ephemeral" (lives while its `modal run` does) or "Stopped".</summary>
    public required string State { get; set; }

    /// <summary>SHA-256 of the app's bundle manifest in Storage; null for an app registered without code.</summary>
    public string? BundleId { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset UpdatedAt { get; set; }

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

/// <summary>States of an app, persisted by name.</summary>
public static class AppStates
{
    public const string Deployed = "Deployed";
    public const string Ephemeral = "Ephemeral";
    public const string Stopped = "Stopped";
}
