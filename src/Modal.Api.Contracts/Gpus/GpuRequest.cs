namespace Modal.Api.Contracts.Gpus;

/// <summary>
/// A function's GPU ask, parsed from Modal's spec syntax (case-insensitive): <c>"H100"</c>, <c>"A100-80GB:2"</c>
/// (1–8 per container), <c>"H100!"</c>, <c>"any"</c>. Shared by the SDK (checks a spec at definition), the Api
/// (refuses a bad one at deploy), the Scheduler (places it) and runners (report their GPUs by the type names in
/// <see cref="KnownTypes"/>).
/// </summary>
/// <remarks>
/// As on Modal: <c>"A100"</c> takes an A100 of either memory size (<c>"A100-40GB"</c> and <c>"A100-80GB"</c> pin one);
/// <c>"H100"</c> may run on an H200 when no H100 is free, and <c>"H100!"</c> pins the type (no such upgrade).
/// </remarks>
/// <param name="Type">A type of <see cref="KnownTypes"/>, the family <see cref="A100Family"/>, or <see cref="Any"/>.</param>
/// <param name="Count">GPUs the container holds, all of one type.</param>
/// <param name="Pinned">Written with <c>!</c>: never upgraded to another type.</param>
public sealed record GpuRequest(string Type, int Count, bool Pinned = false)
{
    /// <summary>Matches a GPU of any type.</summary>
    public const string Any = "any";

    /// <summary>An A100 of either memory size.</summary>
    public const string A100Family = "A100";

    /// <summary>Most GPUs one container may hold (one node's worth), as Modal allows.</summary>
    public const int MaxCount = 8;

    /// <summary>The GPU types runners report (and a request may pin), by the platform's names.</summary>
    public static IReadOnlyList<string> KnownTypes { get; } = ["T4", "L4", "A10G", "L40S", "A100-40GB", "A100-80GB", "H100", "H200", "B200"];

    // Modal's spellings that name a known type differently.
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase) { ["A10"] = "A10G" };

    // A request for a family takes any of its members, none preferred.
    private static readonly Dictionary<string, string[]> Families = new(StringComparer.OrdinalIgnoreCase)
    {
        [A100Family] = ["A100-40GB", "A100-80GB"],
    };

    // Types an unpinned request may run on when none of its own is free, as Modal upgrades H100 to H200.
    private static readonly Dictionary<string, string[]> Upgrades = new(StringComparer.OrdinalIgnoreCase) { ["H100"] = ["H200"] };

    /// <summary>The highest <see cref="Rank"/> a GPU can have: placement tries rank 0 everywhere before rank 1.</summary>
    public const int LowestPreference = 1;

    /// <summary>Whether any GPU type will do.</summary>
    public bool IsAny => Type == Any;

    /// <summary>
    /// How well a GPU of <paramref name="gpuType"/> serves this request: 0 for the type asked for (a family's members
    /// alike), 1 for an upgrade (an H200 for an unpinned H100); null when it does not serve it at all.
    /// </summary>
    public int? Rank(string gpuType)
    {
        if (IsAny || string.Equals(Type, gpuType, StringComparison.OrdinalIgnoreCase)
            || (Families.TryGetValue(Type, out var members) && members.Contains(gpuType, StringComparer.OrdinalIgnoreCase)))
        {
            return 0;
        }
        return !Pinned && Upgrades.TryGetValue(Type, out var upgrades) && upgrades.Contains(gpuType, StringComparer.OrdinalIgnoreCase) ? 1 : null;
    }

    /// <summary>Whether a GPU of <paramref name="gpuType"/> satisfies this request (its type, a family member, or an upgrade).</summary>
    public bool Accepts(string gpuType) => Rank(gpuType) is not null;

    /// <summary>The spec in its canonical spelling: <c>H100!:2</c>.</summary>
    public override string ToString() => $"{Type}{(Pinned ? "!" : "")}{(Count == 1 ? "" : $":{Count}")}";

    /// <summary>Parses a spec; <paramref name="error"/> says what is wrong with one that does not parse.</summary>
    public static bool TryParse(string? spec, out GpuRequest request, out string error)
    {
        request = new GpuRequest(Any, 1);
        error = "";
        var parts = (spec ?? "").Split(':', StringSplitOptions.TrimEntries);
        var bang = parts[0].IndexOf('!', StringComparison.Ordinal);
        if (parts.Length is < 1 or > 2 || parts[0].TrimEnd('!').Length == 0 || (bang >= 0 && bang != parts[0].Length - 1))
        {
            error = $"GPU spec '{spec}' is not TYPE, TYPE! or TYPE:COUNT (e.g. \"H100\", \"H100!\", \"A100-80GB:2\", \"any\").";
            return false;
        }
        var count = 1;
        if (parts.Length == 2 && (!int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out count)
            || count is < 1 or > MaxCount))
        {
            error = $"GPU count in '{spec}' must be a whole number from 1 to {MaxCount}.";
            return false;
        }
        var pinned = parts[0].EndsWith('!');
        var name = parts[0].TrimEnd('!');
        var type = string.Equals(name, Any, StringComparison.OrdinalIgnoreCase) ? Any
            : string.Equals(name, A100Family, StringComparison.OrdinalIgnoreCase) ? A100Family
            : Aliases.GetValueOrDefault(name) ?? KnownTypes.FirstOrDefault(known => string.Equals(known, name, StringComparison.OrdinalIgnoreCase));
        if (type is null)
        {
            error = $"GPU type '{name}' is unknown; use one of {string.Join(", ", KnownTypes)}, {A100Family} (either memory size) or \"any\".";
            return false;
        }
        if (pinned && type == Any)
        {
            error = $"GPU spec '{spec}' pins nothing: \"any\" takes every type.";
            return false;
        }
        request = new GpuRequest(type, count, pinned);
        return true;
    }

    /// <summary>Parses a spec or throws <see cref="FormatException"/> saying what is wrong.</summary>
    public static GpuRequest Parse(string spec) => TryParse(spec, out var request, out var error) ? request : throw new FormatException(error);

    /// <summary>
    /// Parses a function's GPU and its fallbacks, in order; null (and every problem in <paramref name="errors"/>) when
    /// one does not parse. No GPU gives an empty list.
    /// </summary>
    public static IReadOnlyList<GpuRequest>? TryParseAll(string? gpu, IEnumerable<string>? fallbacks, out IReadOnlyList<string> errors)
    {
        var specs = (gpu is null ? [] : new[] { gpu }).Concat(fallbacks ?? []).ToList();
        var parsed = new List<GpuRequest>(specs.Count);
        var problems = new List<string>();
        foreach (var spec in specs)
        {
            if (TryParse(spec, out var request, out var error))
            {
                parsed.Add(request);
            }
            else
            {
                problems.Add(error);
            }
        }
        errors = problems;
        return problems.Count == 0 ? parsed : null;
    }

    /// <summary>A function's GPU and its fallbacks as a person reads them: <c>H100:2, then A100</c>.</summary>
    public static string Describe(IEnumerable<GpuRequest> candidates) => string.Join(", then ", candidates);
}
