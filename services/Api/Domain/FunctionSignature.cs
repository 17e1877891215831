using System.Text.Json;

namespace Modal.Api.Domain;

/// <summary>
/// The part of a function's manifest the Api reads (name, parameters, timeout). The manifest itself is kept whole,
/// so options the Api does not interpret still reach the runner and the scheduler.
/// </summary>
public sealed record FunctionSignature(
    string Name, IReadOnlyList<ParameterSignature> Parameters, string ResultType, double TimeoutSeconds,
    int MaxConcurrentInputs = 1, RetriesSignature? Retries = null, IReadOnlyDictionary<string, string>? Env = null, string? ClassName = null,
    string? Gpu = null, IReadOnlyList<string>? GpuFallbacks = null, IReadOnlyDictionary<string, string>? Volumes = null,
    IReadOnlyList<SecretSignature>? Secrets = null, int? MaxContainers = null, int? BatchMaxSize = null, double Cpu = 0.125, long MemoryMiB = 128,
    bool BlockNetwork = false, int MinContainers = 0, int BufferContainers = 0, double ScaledownWindowSeconds = 60, bool SingleUseContainers = false,
    Modal.Api.Contracts.Web.WebEndpointManifest? Web = null, Modal.Api.Contracts.Schedules.ScheduleManifest? Schedule = null,
    Modal.Api.Contracts.Images.ImageManifest? Image = null, Modal.Contracts.Images.ImageRootSpec? ImageRoot = null)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    public static FunctionSignature Parse(string manifestJson) =>
        JsonSerializer.Deserialize<FunctionSignature>(manifestJson, Json)
            ?? throw new InvalidOperationException("A stored function manifest is empty.");
}

/// <summary>A function's retry policy as the SDK describes it.</summary>
public sealed record RetriesSignature(int MaxRetries, double BackoffCoefficient, double InitialDelaySeconds, double MaxDelaySeconds);

/// <summary>A secret a function uses, by name, with the keys it must have (never values: the manifest is stored here).</summary>
public sealed record SecretSignature(string Name, IReadOnlyList<string>? RequiredKeys = null);

/// <summary>A parameter: its name (the argument's key) and .NET type name.</summary>
public sealed record ParameterSignature(string Name, string Type)
{
    /// <summary>
    /// Whether <paramref name="argument"/> can bind to this parameter, for the types a JSON kind settles; other
    /// types are checked by the function server when it binds the arguments.
    /// </summary>
    public bool Accepts(JsonElement argument) => Type switch
    {
        "System.String" => argument.ValueKind is JsonValueKind.String or JsonValueKind.Null,
        "System.Boolean" => argument.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "System.Int32" => argument.ValueKind == JsonValueKind.Number && argument.TryGetInt32(out _),
        "System.Int64" => argument.ValueKind == JsonValueKind.Number && argument.TryGetInt64(out _),
        "System.Double" or "System.Single" or "System.Decimal" => argument.ValueKind == JsonValueKind.Number,
        "System.Byte[]" => argument.ValueKind is JsonValueKind.String or JsonValueKind.Null,
        _ => true,
    };
}
