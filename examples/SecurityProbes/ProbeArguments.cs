namespace SecurityProbesExample;

/// <summary>A function here takes at most two arguments; the rest travel as "key=value" lines.</summary>
internal static class ProbeArguments
{
    public static Dictionary<string, string> Parse(string context) =>
        context.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair.Length == 2 ? pair[1] : "");
}
