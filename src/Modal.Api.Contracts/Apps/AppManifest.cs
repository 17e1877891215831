namespace Modal.Api.Contracts.Apps;

/// <summary>An app as the platform registers it (what <c>--modal-describe</c> prints).</summary>
/// <param name="Name">The app's name.</param>
/// <param name="Functions">Its functions.</param>
/// <param name="LocalSecrets">
/// Values of the secrets the program defines (<c>Secret.FromDictionary</c> and the like), by the name a deploy stores
/// them under. Read on the deploying machine; a deploy stores them through <c>/v1/secrets</c> and never sends them with
/// the functions. Null when there are none.
/// </param>
public sealed record AppManifest(
    string Name, IReadOnlyList<FunctionManifest> Functions, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? LocalSecrets = null);

/// <summary>One function's signature and options.</summary>
/// <param name="Name">Function name.</param>
/// <param name="Parameters">Parameters in order.</param>
/// <param name="ResultType">.NET name of the result type (<c>System.Void</c> for none).</param>
/// <param name="Gpu">GPU request, if any.</param>
/// <param name="GpuFallbacks">GPU types to try next.</param>
/// <param name="Cpu">CPU cores.</param>
/// <param name="MemoryMiB">Memory in MiB.</param>
/// <param name="TimeoutSeconds">Per-attempt timeout.</param>
/// <param name="Retries">Retry policy, if any.</param>
/// <param name="Secrets">Secrets by name, with the keys each must have (never values).</param>
/// <param name="Volumes">Mount path → volume name.</param>
/// <param name="Env">Extra environment variables.</param>
/// <param name="MinContainers">Containers kept warm.</param>
/// <param name="MaxContainers">Container cap.</param>
/// <param name="BufferContainers">Extra idle containers.</param>
/// <param name="ScaledownWindowSeconds">Idle time before a container stops.</param>
/// <param name="MaxConcurrentInputs">Inputs per container at once.</param>
/// <param name="ClassName">The class a method belongs to (its functions share containers); null for a plain function.</param>
/// <param name="BatchMaxSize">Largest batch of a batched function; null when not batched.</param>
/// <param name="BatchWaitMs">Longest wait for a batch to fill, in milliseconds; null when not batched.</param>
/// <param name="BlockNetwork">The container gets no network at all.</param>
/// <param name="SingleUseContainers">Each container runs one input, then exits.</param>
/// <param name="Web">How the function is served over HTTP (<see cref="Web.WebEndpointManifest"/>); null for none.</param>
/// <param name="Schedule">When the function runs by itself while its app is deployed (<see cref="Schedules.ScheduleManifest"/>); null for none.</param>
/// <param name="Image">The container's image (<see cref="Images.ImageManifest"/>); null: the node's own system.</param>
public sealed record FunctionManifest(
    string Name,
    IReadOnlyList<ParameterManifest> Parameters,
    string ResultType,
    string? Gpu,
    IReadOnlyList<string> GpuFallbacks,
    double Cpu,
    int MemoryMiB,
    double TimeoutSeconds,
    RetriesManifest? Retries,
    IReadOnlyList<SecretManifest> Secrets,
    IReadOnlyDictionary<string, string> Volumes,
    IReadOnlyDictionary<string, string> Env,
    int MinContainers,
    int? MaxContainers,
    int BufferContainers,
    double ScaledownWindowSeconds,
    int MaxConcurrentInputs,
    string? ClassName = null,
    int? BatchMaxSize = null,
    double? BatchWaitMs = null,
    bool BlockNetwork = false,
    bool SingleUseContainers = false,
    Web.WebEndpointManifest? Web = null,
    Schedules.ScheduleManifest? Schedule = null,
    Images.ImageManifest? Image = null);

/// <summary>A parameter: its name (the argument's key on the wire) and .NET type.</summary>
/// <param name="Name">Parameter name.</param>
/// <param name="Type">.NET type name.</param>
public sealed record ParameterManifest(string Name, string Type);

/// <summary>A retry policy on the wire.</summary>
/// <param name="MaxRetries">Retries after the first attempt.</param>
/// <param name="BackoffCoefficient">Delay factor per retry.</param>
/// <param name="InitialDelaySeconds">Delay before the first retry.</param>
/// <param name="MaxDelaySeconds">Upper bound of a delay.</param>
public sealed record RetriesManifest(int MaxRetries, double BackoffCoefficient, double InitialDelaySeconds, double MaxDelaySeconds);

/// <summary>A function's use of a secret on the wire.</summary>
/// <param name="Name">The secret's name.</param>
/// <param name="RequiredKeys">Keys it must have; a deploy fails naming the first one missing.</param>
public sealed record SecretManifest(string Name, IReadOnlyList<string> RequiredKeys);
