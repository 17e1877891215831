using Modal.Api.Contracts.Gpus;

namespace Modal;

/// <summary>
/// What a function needs and how it scales, with Modal's defaults and bounds. Checked when the function is defined
/// (<see cref="Validate"/>): an invalid value throws <see cref="InvalidFunctionOptionsException"/> naming the option.
/// </summary>
public sealed record FunctionOptions
{
    /// <summary>Default per-attempt timeout (300 s, as Modal).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(300);

    /// <summary>Shortest and longest allowed timeouts.</summary>
    public static readonly TimeSpan MinTimeout = TimeSpan.FromSeconds(1), MaxTimeout = TimeSpan.FromHours(24);

    /// <summary>Default and allowed idle time before a container scales down.</summary>
    public static readonly TimeSpan DefaultScaledownWindow = TimeSpan.FromSeconds(60),
        MinScaledownWindow = TimeSpan.FromSeconds(2), MaxScaledownWindow = TimeSpan.FromMinutes(20);

    /// <summary>
    /// GPU request, as Modal spells it (case-insensitive): <c>"T4"</c>, <c>"A100-80GB:2"</c> (a count, 1–8),
    /// <c>"A100"</c> (either memory size), <c>"H100"</c> (may run on an H200 when no H100 is free), <c>"H100!"</c>
    /// (never upgraded), <c>"any"</c>; null for none. Fallbacks: <see cref="GpuFallbacks"/>. A call fails with
    /// <c>Modal.GpuUnavailable</c> when no runner seen in the last minute has any of these types.
    /// </summary>
    public string? Gpu { get; init; }

    /// <summary>Further GPU types to try, in order, when <see cref="Gpu"/> is not free.</summary>
    public IReadOnlyList<string> GpuFallbacks { get; init; } = [];

    /// <summary>CPU cores reserved (fractional; default 0.125, at most 64).</summary>
    public double Cpu { get; init; } = 0.125;

    /// <summary>Memory reserved and enforced, in MiB (default 128; 1 MiB to 1 TiB).</summary>
    public int MemoryMiB { get; init; } = 128;

    /// <summary>Limit per attempt (1 s to 24 h; default 300 s). A retry gets a fresh window.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Retry policy; <c>Retries = 2</c> means two retries 1 s apart. Null: no retries.</summary>
    public Retries? Retries { get; init; }

    /// <summary>
    /// Secrets whose keys become environment variables in the container (a later secret wins on a shared key; secrets
    /// win over <see cref="Env"/>). See <see cref="Secret"/>.
    /// </summary>
    public IReadOnlyList<Secret> Secrets { get; init; } = [];

    /// <summary>Volumes by mount path (absolute) → volume name.</summary>
    public IReadOnlyDictionary<string, string> Volumes { get; init; } = new Dictionary<string, string>();

    /// <summary>Extra environment variables of the container.</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>Containers kept running even without work (default 0: scale to zero).</summary>
    public int MinContainers { get; init; }

    /// <summary>Upper bound of containers (null: the platform's limit).</summary>
    public int? MaxContainers { get; init; }

    /// <summary>Idle containers kept beyond current demand, ready for bursts.</summary>
    public int BufferContainers { get; init; }

    /// <summary>How long an idle container lives before it stops (2 s to 20 min; default 60 s).</summary>
    public TimeSpan ScaledownWindow { get; init; } = DefaultScaledownWindow;

    /// <summary>Inputs one container runs at once (1 to 1,000; default 1).</summary>
    public int MaxConcurrentInputs { get; init; } = 1;

    /// <summary>
    /// No network access from the container (as Modal's <c>block_network</c>): it reaches neither the internet nor any address
    /// of the node. The platform stays reachable through the runner's platform socket, so Dicts, Queues, Volumes
    /// (<see cref="Volume.CommitAsync"/>) and calls of other functions keep working, as on Modal.
    /// </summary>
    public bool BlockNetwork { get; init; }

    /// <summary>Each container runs one input, then exits (Modal's <c>single_use_containers</c>); implies one input at a time.</summary>
    public bool SingleUseContainers { get; init; }

    /// <summary>
    /// Makes the function a web function (Modal's <c>fastapi_endpoint</c>): HTTP requests to its URL become calls, with
    /// the query string and JSON body bound to its parameters (<see cref="Modal.WebEndpoint"/>). Null: not a web function.
    /// Not allowed on batched functions, classes, ASP.NET Core apps and servers (those take <see cref="WebServerOptions"/>).
    /// </summary>
    public WebEndpoint? WebEndpoint { get; init; }

    /// <summary>
    /// Runs the function by itself on a <see cref="Cron"/> or <see cref="Period"/> while its app is deployed (Modal's
    /// <c>schedule=</c>). Only on a plain function that takes no arguments. Null: no schedule.
    /// </summary>
    public Schedule? Schedule { get; init; }

    /// <summary>
    /// The container's image (Modal's <c>image=</c>): its root file system, built on the platform from the definition
    /// (<see cref="Modal.Image"/>). Null: the app's <see cref="App.Image"/>, and without that the node's own system,
    /// read-only.
    /// </summary>
    public Image? Image { get; init; }

    /// <summary>Throws <see cref="InvalidFunctionOptionsException"/> for the first option out of bounds.</summary>
    public void Validate()
    {
        Require(Gpu is null || !string.IsNullOrWhiteSpace(Gpu), nameof(Gpu), "must not be blank; leave it null for no GPU");
        Require(GpuFallbacks.Count == 0 || Gpu is not null, nameof(GpuFallbacks), "needs a primary Gpu");
        Require(GpuFallbacks.All(g => !string.IsNullOrWhiteSpace(g)), nameof(GpuFallbacks), "must not contain blank entries");
        // The parser the Api uses at deploy: a bad spec is refused where it is written, not at deploy or the first call.
        if (Gpu is not null && !GpuRequest.TryParse(Gpu, out _, out var gpuError))
        {
            Require(false, nameof(Gpu), $"is invalid: {gpuError}");
        }
        foreach (var fallback in GpuFallbacks)
        {
            if (!GpuRequest.TryParse(fallback, out _, out var fallbackError))
            {
                Require(false, nameof(GpuFallbacks), $"is invalid: {fallbackError}");
            }
        }
        Require(Cpu is > 0 and <= 64, nameof(Cpu), $"must be more than 0 and at most 64 cores (was {Cpu})");
        Require(MemoryMiB is >= 1 and <= 1024 * 1024, nameof(MemoryMiB), $"must be between 1 MiB and 1 TiB (was {MemoryMiB})");
        Require(Timeout >= MinTimeout && Timeout <= MaxTimeout, nameof(Timeout),
            $"must be between 1 second and 24 hours (was {Timeout})");
        Require(Secrets.All(s => s is not null), nameof(Secrets), "must not contain null entries");
        Require(Volumes.Keys.All(path => path.StartsWith('/') && !path.Contains("..", StringComparison.Ordinal)), nameof(Volumes),
            "mount paths must be absolute and must not contain '..'");
        Require(Volumes.Values.All(v => !string.IsNullOrWhiteSpace(v)), nameof(Volumes), "must name a volume for every path");
        Require(Env.Keys.All(IsEnvironmentName), nameof(Env), "names must be letters, digits or '_' and not start with a digit");
        Require(MinContainers >= 0, nameof(MinContainers), $"must not be negative (was {MinContainers})");
        Require(MaxContainers is null or >= 1, nameof(MaxContainers), $"must be at least 1 (was {MaxContainers})");
        Require(MaxContainers is null || MinContainers <= MaxContainers, nameof(MinContainers),
            $"({MinContainers}) must not exceed MaxContainers ({MaxContainers})");
        Require(BufferContainers >= 0, nameof(BufferContainers), $"must not be negative (was {BufferContainers})");
        Require(ScaledownWindow >= MinScaledownWindow && ScaledownWindow <= MaxScaledownWindow, nameof(ScaledownWindow),
            $"must be between 2 seconds and 20 minutes (was {ScaledownWindow})");
        Require(MaxConcurrentInputs is >= 1 and <= 1000, nameof(MaxConcurrentInputs),
            $"must be between 1 and 1000 (was {MaxConcurrentInputs})");
        WebEndpoint?.Validate();
        Schedule?.Validate();
    }

    private static bool IsEnvironmentName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static void Require(bool valid, string option, string rule)
    {
        if (!valid)
        {
            throw new InvalidFunctionOptionsException(option, $"FunctionOptions.{option} {rule}.");
        }
    }
}
