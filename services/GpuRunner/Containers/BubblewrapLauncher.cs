using Modal.Container.Protocol;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// A container in its own Linux namespaces through bubblewrap (pid, mount, ipc, uts; network too with
/// <see cref="ContainerSpec.BlockNetwork"/>). What it sees: the system read-only, its bundle read-only at
/// <see cref="BundlePath"/>, a private <c>/tmp</c>, its runtime folder (the function server's socket) at
/// <see cref="RuntimePath"/>, its Volumes at the paths the function asked for and only its GPUs' device files. Nothing
/// of the runner's caches, other containers or other workspaces is mounted; its processes see only each other.
/// </summary>
/// <param name="bubblewrapPath">The <c>bwrap</c> executable.</param>
/// <param name="dotnetPath">The dotnet host (its folder is bound read-only where it is outside <c>/usr</c>).</param>
/// <param name="siteBinds">The site's <c>GpuRunner:ContainerBinds</c>: host folder → container path, read-write.</param>
/// <param name="exists">Whether a path exists on the node (<see cref="Path.Exists"/> in production).</param>
public sealed class BubblewrapLauncher(
    string bubblewrapPath, string dotnetPath, IReadOnlyDictionary<string, string> siteBinds, Func<string, bool> exists) : IContainerLauncher
{
    /// <summary>Where the container sees its bundle (its working directory).</summary>
    public const string BundlePath = "/app";

    /// <summary>Where the container sees its runtime folder.</summary>
    public const string RuntimePath = "/run/modal";

    /// <summary>
    /// Where the container sees the runner's platform socket folder (read-only: a socket on a read-only mount still
    /// accepts connections), so <c>{PlatformPath}/platform.sock</c> is its way to the platform.
    /// </summary>
    public const string PlatformPath = "/run/modal-platform";

    /// <summary>System folders bound read-only when the node has them (merged-/usr systems have links here).</summary>
    private static readonly string[] SystemFolders = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc"];

    /// <summary>Files of /etc only root should read: the container's root (without capabilities) still owns them.</summary>
    private static readonly string[] MaskedFiles = ["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-"];

    public string Backend => "bubblewrap";

    public bool Isolates => true;

    public ContainerCommand Command(ContainerSpec spec, string runtimeDirectory, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var args = new List<string>
        {
            "--die-with-parent", "--new-session",
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "modal",
        };
        if (spec.BlockNetwork)
        {
            args.Add("--unshare-net");
        }
        foreach (var folder in SystemFolders.Where(exists))
        {
            args.AddRange(["--ro-bind", folder, folder]);
        }
        foreach (var secret in MaskedFiles.Where(exists))
        {
            args.AddRange(["--ro-bind", "/dev/null", secret]);
        }
        var dotnetRoot = Path.GetDirectoryName(dotnetPath);
        if (dotnetRoot is { Length: > 0 } && !IsUnder(dotnetRoot, "/usr"))
        {
            args.AddRange(["--ro-bind", dotnetRoot, dotnetRoot]);
        }
        args.AddRange(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]);
        args.AddRange(["--ro-bind", spec.BundleDirectory, BundlePath, "--chdir", BundlePath]);
        args.AddRange(["--bind", runtimeDirectory, RuntimePath]);
        if (spec.PlatformSocketFolder is { } platform)
        {
            // A path socket is reached through the file system, so it works in a network namespace of its own
            // (BlockNetwork) too: the platform stays reachable where the network is not.
            args.AddRange(["--ro-bind", platform, PlatformPath]);
        }
        foreach (var (host, target) in siteBinds.OrderBy(b => b.Value, StringComparer.Ordinal))
        {
            args.AddRange(["--bind", host, target]);
        }
        // Parents before children, so a Volume at /data/models lands inside one at /data.
        foreach (var bind in spec.Binds.OrderBy(b => b.ContainerPath.Length).ThenBy(b => b.ContainerPath, StringComparer.Ordinal))
        {
            args.AddRange([bind.ReadOnly ? "--ro-bind" : "--bind", bind.HostPath, bind.ContainerPath]);
        }
        foreach (var device in GpuDevices.For(spec.GpuIndices, exists))
        {
            args.AddRange(["--dev-bind", device, device]);
        }
        args.AddRange(["--", dotnetPath, $"{BundlePath}/{spec.EntryAssembly}"]);

        var variables = new Dictionary<string, string>(environment, StringComparer.Ordinal)
        {
            [ContainerProtocol.SocketVariable] = $"{RuntimePath}/fn.sock",
            [ContainerCommand.IsolationVariable] = Backend,
            // The runner's own home and temp folders are not there; /tmp is the container's own.
            ["HOME"] = "/tmp",
            ["TMPDIR"] = "/tmp",
        };
        if (spec.PlatformSocketFolder is not null)
        {
            variables[ContainerProtocol.PlatformSocketVariable] = $"{PlatformPath}/{Platform.PlatformSocket.FileName}";
        }
        return new ContainerCommand(bubblewrapPath, args, spec.BundleDirectory, variables);
    }

    private static bool IsUnder(string path, string folder) =>
        path == folder || path.StartsWith(folder + "/", StringComparison.Ordinal);
}
