using System.Runtime.InteropServices;

namespace Modal.GpuRunner.Bundles;

/// <summary>
/// Hard links, so a file shared by many bundles (libtorch: 440 MB) exists once on disk. .NET has no API for them;
/// where <c>link(2)</c> is unavailable or fails (another filesystem), the file is copied instead. Symbolic links
/// would not do: the .NET host resolves them and would look for the app's dependencies next to the blob.
/// </summary>
internal static partial class HardLinks
{
    public static void LinkOrCopy(string existing, string newPath)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            if (Link(existing, newPath) == 0)
            {
                return;
            }
        }
        File.Copy(existing, newPath);
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string existing, string newPath);
}
