using System.Diagnostics;

namespace Modal.Cli.Commands;

/// <summary>Builds a user's project the way containers run it: <c>dotnet publish -c Release</c> into a folder of its own.</summary>
internal static class ProjectPublisher
{
    public static async Task<string> PublishAsync(string project, CancellationToken cancellationToken)
    {
        var projectPath = Path.GetFullPath(project);
        if (!File.Exists(projectPath) && !Directory.Exists(projectPath))
        {
            throw new FileNotFoundException($"No project at '{project}': give a .csproj or the folder that holds one.", project);
        }
        var projectDirectory = Directory.Exists(projectPath) ? projectPath : Path.GetDirectoryName(projectPath)!;
        var output = Path.Combine(projectDirectory, "obj", "modal", "publish");
        if (Directory.Exists(output))
        {
            // A stale file from an earlier publish would end up in the bundle.
            Directory.Delete(output, recursive: true);
        }

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "publish", projectPath, "-c", "Release", "-o", output, "--nologo" })
        {
            start.ArgumentList.Add(argument);
        }
        if (SourcePathMap(projectDirectory) is { } pathMap)
        {
            start.ArgumentList.Add($"-p:PathMap={pathMap}");
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start 'dotnet publish'.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish failed ({process.ExitCode}):\n{await stdout}\n{await stderr}");
        }
        return output;
    }

    /// <summary>
    /// Maps the sources' folder to <c>/_/</c> in the symbols, so a remote exception's stack trace names
    /// <c>/_/Program.cs:line 12</c>, not the deploying machine's paths. The folder is the repository holding the
    /// project (its project references are then mapped too), else the project's own. <c>ContinuousIntegrationBuild</c>
    /// would do this only inside a git repository. Null (no map) for a path the property's syntax cannot carry.
    /// </summary>
    internal static string? SourcePathMap(string projectDirectory)
    {
        var root = new DirectoryInfo(projectDirectory);
        for (var folder = root; folder is not null; folder = folder.Parent)
        {
            if (Directory.Exists(Path.Combine(folder.FullName, ".git")) || File.Exists(Path.Combine(folder.FullName, ".git")))
            {
                root = folder;
                break;
            }
        }
        var source = Path.TrimEndingDirectorySeparator(root.FullName) + Path.DirectorySeparatorChar;
        return source.IndexOfAny([',', ';', '=', '%', '"']) >= 0 ? null : $"{source}=/_/";
    }
}
