using System.Reflection;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>The example apps under examples/, built by the test project's references.</summary>
internal static class Examples
{
    /// <summary>The build configuration of these tests (and so of everything they run).</summary>
    public static readonly string Configuration =
        typeof(Examples).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>The build output folder of examples/<paramref name="name"/>.</summary>
    public static string OutputDirectory(string name) =>
        Path.Combine(RepositoryPaths.Root, "examples", name, "bin", Configuration, "net10.0");
}
