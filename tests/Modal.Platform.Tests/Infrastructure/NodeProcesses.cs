using System.Globalization;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>The processes of this machine, read from <c>/proc</c>: what really runs, whatever a service's own list says.</summary>
internal static class NodeProcesses
{
    /// <summary>The ids of processes whose environment holds exactly <paramref name="entry"/> (<c>NAME=value</c>).</summary>
    public static IReadOnlyList<int> WithEnvironment(string entry)
    {
        var found = new List<int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(folder, "environ")).Split('\0').Contains(entry, StringComparer.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone since the listing, or not ours to read.
            }
        }
        return found;
    }
}
