using System.Diagnostics;
using System.Globalization;
using Modal.Api.Contracts.Gpus;
using Modal.Contracts.Runners;

namespace Modal.GpuRunner.Domain;

/// <summary>
/// Discovers a node's GPUs with <c>nvidia-smi --query-gpu=index,name,uuid,memory.total --format=csv,noheader,nounits</c>
/// and maps NVIDIA's product names to the platform's GPU types (<see cref="GpuRequest.KnownTypes"/>).
/// </summary>
public static class NvidiaSmi
{
    /// <summary>The query the runner runs; its output is what <see cref="Parse"/> reads.</summary>
    public const string QueryArguments = "--query-gpu=index,name,uuid,memory.total --format=csv,noheader,nounits";

    /// <summary>
    /// The node's GPUs, or null when nvidia-smi is not installed (a node without GPUs). A failing nvidia-smi (driver
    /// trouble) throws, so a GPU node does not quietly come up with no GPUs.
    /// </summary>
    public static IReadOnlyList<RunnerGpu>? Discover(string executable = "nvidia-smi")
    {
        var start = new ProcessStartInfo(executable, QueryArguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // Not installed: no NVIDIA driver on this node.
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)) || process.ExitCode != 0)
            {
                throw new InvalidOperationException($"'{executable} {QueryArguments}' failed ({(process.HasExited ? $"exit {process.ExitCode}" : "timed out")}): {error.Trim()}");
            }
            return Parse(output);
        }
    }

    /// <summary>Reads nvidia-smi's CSV (one GPU per line: index, name, uuid, memory in MiB).</summary>
    /// <exception cref="FormatException">A line is not in that form (the message quotes it).</exception>
    public static IReadOnlyList<RunnerGpu> Parse(string csv)
    {
        ArgumentNullException.ThrowIfNull(csv);
        var gpus = new List<RunnerGpu>();
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(',', StringSplitOptions.TrimEntries);
            if (fields.Length != 4 || !int.TryParse(fields[0], CultureInfo.InvariantCulture, out var index)
                || !long.TryParse(fields[3], CultureInfo.InvariantCulture, out var memoryMiB))
            {
                throw new FormatException($"Unexpected nvidia-smi line '{line}': expected 'index, name, uuid, memory.total [MiB]'.");
            }
            gpus.Add(new RunnerGpu
            {
                Index = index, Type = TypeOf(fields[1], memoryMiB), Uuid = fields[2], MemoryMiB = memoryMiB, Simulated = false, Allocated = false,
            });
        }
        return gpus;
    }

    /// <summary>
    /// The platform's type for an NVIDIA product name ("NVIDIA H100 80GB HBM3" → H100, "NVIDIA A100-SXM4-40GB" →
    /// A100-40GB, "Tesla T4" → T4); an unknown product keeps its own name, so no request matches it by mistake.
    /// </summary>
    public static string TypeOf(string productName, long memoryMiB)
    {
        ArgumentNullException.ThrowIfNull(productName);
        var name = productName.ToUpperInvariant();
        if (name.Contains("A100", StringComparison.Ordinal))
        {
            // The product name says 40GB or 80GB on most boards; the memory decides where it does not.
            return name.Contains("80GB", StringComparison.Ordinal) || (!name.Contains("40GB", StringComparison.Ordinal) && memoryMiB > 60 * 1024)
                ? "A100-80GB"
                : "A100-40GB";
        }
        // Longer names first: "L40S" before "L4", "A10G" before nothing shorter.
        foreach (var type in new[] { "H200", "H100", "B200", "L40S", "A10G", "L4", "T4" })
        {
            if (name.Split(' ', '-').Contains(type, StringComparer.Ordinal))
            {
                return type;
            }
        }
        return productName;
    }
}
