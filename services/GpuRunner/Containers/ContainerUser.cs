using System.Runtime.InteropServices;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// The non-root host identity an isolated container runs as (<c>GpuRunner:ContainerUid</c>/<c>ContainerGid</c>). Not root
/// mapped into a user namespace: with host uid 0 behind it, root-owned files such as <c>/etc/shadow</c> stay readable.
/// </summary>
public sealed partial record ContainerUser(int Uid, int Gid)
{
    /// <summary>
    /// Makes <paramref name="path"/> (and, for a folder, everything in it) the container's: folders the runner made for
    /// one container to write (its runtime folder, its Volume copies). Never a shared cache file: what a container owns it
    /// may change. Links are not followed.
    /// </summary>
    public void Own(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Chown(path);
        if (Directory.Exists(path) && File.ResolveLinkTarget(path, returnFinalTarget: false) is null)
        {
            var everything = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
            foreach (var entry in Directory.EnumerateFileSystemEntries(path, "*", everything))
            {
                Chown(entry);
            }
        }
    }

    private void Chown(string path)
    {
        if (LChown(path, Uid, Gid) != 0)
        {
            throw new IOException($"Could not hand {path} to the container's uid {Uid}: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    /// <summary>
    /// Why the container's uid cannot reach <paramref name="path"/>: the first folder on the way (the path included) that
    /// it may not search; null when every one lets others search (the container's uid is in no folder's group).
    /// </summary>
    public static string? Unreachable(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsWindows())
        {
            return null;
        }
        for (var folder = Path.GetFullPath(path); !string.IsNullOrEmpty(folder); folder = Path.GetDirectoryName(folder))
        {
            if (Directory.Exists(folder) && (File.GetUnixFileMode(folder) & UnixFileMode.OtherExecute) == 0)
            {
                return $"{folder} is {Convert.ToString((int)File.GetUnixFileMode(folder), 8)}, not searchable by others";
            }
        }
        return null;
    }

    // .NET has no chown; lchown(2) so that a link a container left in its folder cannot aim the runner at a host file.
    [LibraryImport("libc", EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int LChown(string path, int owner, int group);
}
