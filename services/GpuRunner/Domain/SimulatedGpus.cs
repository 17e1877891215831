using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Modal.Api.Contracts.Gpus;

namespace Modal.GpuRunner.Domain;

/// <summary>
/// Reads <see cref="GpuRunnerOptions.SimulatedGpus"/>: entries <c>TYPE</c> or <c>TYPE:COUNT</c>, each type one a real
/// runner reports (<see cref="GpuRequest.KnownTypes"/>; not a family such as <c>A100</c>, which names no one GPU).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SimulatedGpusAttribute : ValidationAttribute
{
    // A count past one node's worth is a typo, not a node.
    private const int MaxPerEntry = 64;

    /// <summary>The GPU types, one per simulated GPU in index order, with the types' canonical spelling.</summary>
    public static IReadOnlyList<string> Expand(IEnumerable<string> entries)
    {
        var types = new List<string>();
        foreach (var entry in entries)
        {
            var parts = entry.Split(':', StringSplitOptions.TrimEntries);
            var type = GpuRequest.KnownTypes.FirstOrDefault(known => string.Equals(known, parts[0], StringComparison.OrdinalIgnoreCase))
                ?? throw new FormatException($"GpuRunner:SimulatedGpus entry '{entry}': '{parts[0]}' is not a GPU type; use one of {string.Join(", ", GpuRequest.KnownTypes)}.");
            var count = 1;
            if (parts.Length > 2 || (parts.Length == 2
                && (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > MaxPerEntry)))
            {
                throw new FormatException($"GpuRunner:SimulatedGpus entry '{entry}' is not TYPE or TYPE:COUNT with a count from 1 to {MaxPerEntry}.");
            }
            types.AddRange(Enumerable.Repeat(type, count));
        }
        return types;
    }

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        try
        {
            _ = Expand(value as IEnumerable<string> ?? []);
            return ValidationResult.Success;
        }
        catch (FormatException e)
        {
            return new ValidationResult(e.Message, [validationContext.MemberName ?? nameof(GpuRunnerOptions.SimulatedGpus)]);
        }
    }
}
