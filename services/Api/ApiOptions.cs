using System.ComponentModel.DataAnnotations;

namespace Modal.Api;

/// <summary>Settings of the Api service (section <c>Api</c>).</summary>
public sealed class ApiOptions
{
    public const string SectionName = "Api";

    /// <summary>Name of the workspace created on a fresh install.</summary>
    [Required, RegularExpression(WorkspaceNameRules.Pattern, ErrorMessage = WorkspaceNameRules.Description)]
    public string DefaultWorkspace { get; set; } = "main";

    /// <summary>
    /// Where to write the first token of a fresh install (as <c>MODAL_TOKEN_ID=…</c> / <c>MODAL_TOKEN_SECRET=…</c> lines,
    /// readable by the owner only) besides printing it once. Empty: print only.
    /// </summary>
    public string? FirstTokenFile { get; set; }

    /// <summary>How long a call's state and result stay readable after the call was made.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00", ErrorMessage = "Api:CallRetention must be between 1 minute and 30 days.")]
    public TimeSpan CallRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Base address of the Storage service; <c>/v1/blobs</c>, <c>/v1/dicts</c> and <c>/v1/queues</c> are forwarded there. Under Aspire, service discovery resolves it.</summary>
    [Required(ErrorMessage = "Api:StorageUrl is required.")]
    public Uri StorageUrl { get; set; } = new("http://storage");

    /// <summary>
    /// Storage's address as clients can reach it. When set (and <c>StorageCredentials:Key</c> is), the Api hands clients
    /// a workspace-scoped credential and this address (<c>POST /v1/storage/credentials</c>) so their Dict, Queue and Volume
    /// requests skip the Api; empty: clients go through the Api's forwarder only.
    /// </summary>
    public Uri? StoragePublicUrl { get; set; }

    /// <summary>Base address of the Secrets service; <c>/v1/secrets</c> is forwarded there, and deploys check secrets there. Under Aspire, service discovery resolves it.</summary>
    [Required(ErrorMessage = "Api:SecretsUrl is required.")]
    public Uri SecretsUrl { get; set; } = new("http://secrets");

    /// <summary>
    /// The install's runner key (the one runners hold as <c>GpuRunner:RunnerKey</c>): the ingress presents it to a
    /// runner's web forwarder with every request for a server container. Empty: servers cannot be reached (503).
    /// </summary>
    [MinLength(32, ErrorMessage = "Api:RunnerKey must be at least 32 characters.")]
    public string? RunnerKey { get; set; }

    /// <summary>
    /// Whether a map's input pages and output reads are traced. Off by default: a 100,000-input map is thousands of
    /// pages, slices and output batches, whose spans cost the Api, the runner and the trace collector more CPU than the
    /// inputs themselves and drown the dashboard. A map's start, close and cancel are traced either way.
    /// </summary>
    public bool TraceMapData { get; set; }
}

/// <summary>What a workspace name may be: lowercase letters, digits and dashes, as Modal's workspace slugs.</summary>
public static class WorkspaceNameRules
{
    public const string Pattern = "^[a-z0-9][a-z0-9-]{0,62}$";
    public const string Description = "A workspace name is 1-63 lowercase letters, digits or dashes, starting with a letter or digit.";
}
