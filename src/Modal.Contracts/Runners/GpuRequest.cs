namespace Modal.Contracts.Runners;

/// <summary>
/// A function's GPU ask, parsed from Modal's spec syntax: <c>"H100"</c>, <c>"A100-80GB:2"</c> (1–8 per container),
/// <c>"any"</c>. Shared vocabulary of the Api (validates specs at deploy), the Scheduler (places them) and runners
/// (report their GPUs by these type names).
/// </summary>
public sealed record GpuRequest(string Type, int Count)
{
    /// <summary>Matches a GPU of any type.</summary>
    public const string Any = "any";

    /// <summary>Most GPUs one container may hold (one node's worth), as Modal allows.</summary>
    public const int MaxCount = 8;

    /// <summary>The GPU types the platform knows, by the names runners report.</summary>
    public static IReadOnlyList<string> KnownTypes { get; } = ["T4", "L4", "A10G", "L40S", "A100-40GB", "A100-80GB", "H100", "H200", "B200"];

    // Modal's spellings that name a known type differently.
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["A100"] = "A100-40GB",
        ["A10"] = "A10G",
    };

    public bool IsAny => Type == Any;

    /// <summary>Whether a GPU of <paramref name="gpuType"/> satisfies this request's type.</summary>
    public bool Accepts(string gpuType) => IsAny || string.Equals(Type, gpuType, StringComparison.OrdinalIgnoreCase);

    public override string ToString() => Count == 1 ? Type : $"{Type}:{Count}";

    /// <summary>Parses a spec; <paramref name="error"/> says what is wrong with one that does not parse.</summary>
    public static bool TryParse(string? spec, out GpuRequest request, out string error)
    {
        request = new GpuRequest(Any, 1);
        error = "";
        var parts = (spec ?? "").Split(':', StringSplitOptions.TrimEntries);
        if (parts.Length is < 1 or > 2 || parts[0].Length == 0)
        {
            error = $"GPU spec '{spec}' is not TYPE or TYPE:COUNT (e.g. \"H100\", \"A100-80GB:2\", \"any\").";
            return false;
        }
        var count = 1;
        if (parts.Length == 2 && (!int.TryParse(parts[1], out count) || count is < 1 or > MaxCount))
        {
            error = $"GPU count in '{spec}' must be a whole number from 1 to {MaxCount}.";
            return false;
        }
        var type = string.Equals(parts[0], Any, StringComparison.OrdinalIgnoreCase)
            ? Any
            : Aliases.GetValueOrDefault(parts[0]) ?? KnownTypes.FirstOrDefault(known => string.Equals(known, parts[0], StringComparison.OrdinalIgnoreCase));
        if (type is null)
        {
            error = $"GPU type '{parts[0]}' is unknown; use one of {string.Join(", ", KnownTypes)} or \"any\".";
            return false;
        }
        request = new GpuRequest(type, count);
        return true;
    }

    /// <summary>Parses a spec or throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static GpuRequest Parse(string spec) => TryParse(spec, out var request, out var error) ? request : throw new FormatException(error);
}
