namespace Modal.Platform.Tests.Infrastructure;

internal static class RepositoryPaths
{
    /// <summary>The repository root: the first folder above the test binaries that holds Modal.Platform.sln.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Modal.Platform.sln")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException($"No Modal.Platform.sln above {AppContext.BaseDirectory}.");
    }
}
