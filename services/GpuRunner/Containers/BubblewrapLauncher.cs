using Modal.Container.Protocol;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// A container in its own Linux namespaces through bubblewrap (pid, mount, ipc, uts, and network: a namespace the runner
/// made and gave egress through slirp4netns, <see cref="ContainerSpec.NetworkNamespace"/>, or one with only loopback for
/// <see cref="ContainerSpec.BlockNetwork"/>), as a non-root host uid without capabilities, under a seccomp profile. What it
/// sees: the system read-only, <c>/proc</c> and <c>/sys</c> as a container runtime presents them, its bundle read-only at
/// <see cref="BundlePath"/>, a private size-limited <c>/tmp</c>, its runtime folder (the function server's socket) at
/// <see cref="RuntimePath"/>, a server's web folder at <see cref="WebPath"/>, its Volumes at the paths the function asked
/// for and only its GPUs' device files. Nothing of the runner's caches, other containers or other workspaces is mounted;
/// its processes see only each other.
/// </summary>
/// <param name="bubblewrapPath">The <c>bwrap</c> executable.</param>
/// <param name="dotnetPath">The dotnet host (its folder is bound read-only where it is outside <c>/usr</c>).</param>
/// <param name="siteBinds">The site's <c>GpuRunner:ContainerBinds</c>: host folder → container path, read-write.</param>
/// <param name="exists">Whether a path exists on the node (<see cref="Path.Exists"/> in production).</param>
/// <param name="sandbox">Who the container runs as, its seccomp profile, its <c>/tmp</c> size and the helpers that enter
/// its namespaces; <see cref="SandboxSettings.Default"/> when not given.</param>
public sealed class BubblewrapLauncher(
    string bubblewrapPath, string dotnetPath, IReadOnlyDictionary<string, string> siteBinds, Func<string, bool> exists,
    SandboxSettings? sandbox = null) : IContainerLauncher
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

    /// <summary>Where a server container sees its web folder (the folder of <see cref="ContainerProtocol.WebSocketPathInContainer"/>).</summary>
    public static readonly string WebPath = Path.GetDirectoryName(ContainerProtocol.WebSocketPathInContainer)!;

    /// <summary>The descriptor the container's shell opens the seccomp profile on, for bubblewrap's <c>--seccomp</c>.</summary>
    public const int SeccompDescriptor = 3;

    /// <summary>System folders bound read-only when the node has them (merged-/usr systems have links here).</summary>
    private static readonly string[] SystemFolders = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/etc"];

    /// <summary>Files of /etc only root should read: defence in depth, since the container's uid may not read them anyway.</summary>
    private static readonly string[] MaskedFiles = ["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-"];

    /// <summary>Files of /proc that say too much about the kernel or other tenants (what runc masks): /dev/null over them.</summary>
    private static readonly string[] MaskedProcFiles = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"];

    /// <summary>Folders of /proc and /sys masked by an empty read-only tmpfs.</summary>
    private static readonly string[] MaskedFolders = ["/proc/acpi", "/proc/scsi", "/sys/firmware"];

    /// <summary>Kernel settings and interfaces a container may read but never write.</summary>
    private static readonly string[] ReadOnlyProc = ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"];

    /// <summary>The node's resolver settings, bound into an image (a container's DNS is the node's, through its network).</summary>
    private const string ResolvConf = "/etc/resolv.conf";

    private readonly SandboxSettings _sandbox = sandbox ?? SandboxSettings.Default;

    /// <summary>
    /// The folders and files an image root must hold for <see cref="Command"/>'s binds to land on (bubblewrap cannot make
    /// a mount point on a read-only root): the runtime's, the container's own folders, Volumes, site binds, the workdir.
    /// </summary>
    public (IReadOnlyList<string> Folders, IReadOnlyList<string> Files) ImageMountPoints(ContainerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var folders = new List<string> { "/proc", "/dev", "/sys", "/tmp", BundlePath, RuntimePath, PlatformPath, WebPath };
        if (Path.GetDirectoryName(dotnetPath) is { Length: > 0 } dotnetRoot)
        {
            folders.Add(dotnetRoot);
        }
        folders.AddRange(siteBinds.Values);
        folders.AddRange(spec.Binds.Where(b => !File.Exists(b.HostPath)).Select(b => b.ContainerPath));
        if (spec.Workdir is { } workdir)
        {
            folders.Add(workdir);
        }
        return (folders, [ResolvConf, .. spec.Binds.Where(b => File.Exists(b.HostPath)).Select(b => b.ContainerPath)]);
    }

    public string Backend => "bubblewrap";

    public bool Isolates => true;

    public void HandOver(string path) => _sandbox.User?.Own(path);

    public ContainerCommand Command(ContainerSpec spec, string runtimeDirectory, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var args = new List<string>
        {
            "--die-with-parent", "--new-session",
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "modal",
            // Run as root, bubblewrap keeps root's capabilities inside unless told; as the container's uid it has a full
            // set in its own user namespace, which the program must not keep either.
            "--cap-drop", "ALL",
        };
        // A container with a network of its own was put in it (nsenter, below) before bubblewrap started.
        if (spec.BlockNetwork)
        {
            args.Add("--unshare-net");
        }
        var dotnetRoot = Path.GetDirectoryName(dotnetPath);
        if (spec.ImageRoot is { } image)
        {
            // The image is the system; the node's .NET runtime is bound in where the node has it.
            args.AddRange(["--ro-bind", image, "/"]);
            foreach (var secret in MaskedFiles.Where(file => File.Exists(Path.Combine(image, file.TrimStart('/')))))
            {
                args.AddRange(["--ro-bind", "/dev/null", secret]);
            }
            if (dotnetRoot is { Length: > 0 })
            {
                args.AddRange(["--ro-bind", dotnetRoot, dotnetRoot]);
            }
            if (exists(ResolvConf))
            {
                args.AddRange(["--ro-bind", ResolvConf, ResolvConf]);
            }
        }
        else
        {
            foreach (var folder in SystemFolders.Where(exists))
            {
                args.AddRange(["--ro-bind", folder, folder]);
            }
            foreach (var secret in MaskedFiles.Where(exists))
            {
                args.AddRange(["--ro-bind", "/dev/null", secret]);
            }
            if (dotnetRoot is { Length: > 0 } && !IsUnder(dotnetRoot, "/usr"))
            {
                args.AddRange(["--ro-bind", dotnetRoot, dotnetRoot]);
            }
        }
        args.AddRange(["--proc", "/proc", "--dev", "/dev"]);
        // The sandbox's /proc is its own (its pid namespace); the node's /sys read-only, but its firmware tables and the
        // cgroup tree (every container's group; and .NET sizing its heap to the limit would turn the kernel's kill at the
        // limit, reported as Modal.OutOfMemory, into OutOfMemoryExceptions that user code may swallow).
        args.AddRange(["--ro-bind", "/sys", "/sys"]);
        foreach (var file in MaskedProcFiles.Where(exists))
        {
            args.AddRange(["--ro-bind", "/dev/null", file]);
        }
        foreach (var folder in MaskedFolders.Append("/sys/fs/cgroup").Where(exists))
        {
            args.AddRange(["--perms", "0555", "--tmpfs", folder]);
        }
        foreach (var path in ReadOnlyProc.Where(exists))
        {
            args.AddRange(["--ro-bind", path, path]);
        }
        args.AddRange(["--size", _sandbox.TmpBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), "--tmpfs", "/tmp"]);
        args.AddRange(["--ro-bind", spec.BundleDirectory, BundlePath, "--chdir", spec.ImageRoot is not null && spec.Workdir is { } workdir ? workdir : BundlePath]);
        args.AddRange(["--bind", runtimeDirectory, RuntimePath]);
        if (spec.PlatformSocketFolder is { } platform)
        {
            // A path socket is reached through the file system, so it works in a network namespace of its own
            // (BlockNetwork) too: the platform stays reachable where the network is not.
            args.AddRange(["--ro-bind", platform, PlatformPath]);
        }
        if (spec.WebFolder is { } web)
        {
            args.AddRange(["--bind", web, WebPath]);
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
        if (_sandbox.SeccompFilterFile is not null)
        {
            args.AddRange(["--seccomp", SeccompDescriptor.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        args.AddRange(["--", dotnetPath, $"{BundlePath}/{spec.EntryAssembly}"]);

        // Root enters the container's network namespace, then drops to the container's uid, which runs bubblewrap (it
        // makes a user namespace of its own, so bind sources must be reachable by that uid).
        var prefix = new List<string>();
        if (spec.NetworkNamespace is { } network && !spec.BlockNetwork)
        {
            prefix.AddRange([_sandbox.NsenterPath, $"--net={network}"]);
        }
        if (_sandbox.User is { } user)
        {
            prefix.AddRange([_sandbox.SetprivPath, Invariant($"--reuid={user.Uid}"), Invariant($"--regid={user.Gid}"), "--clear-groups"]);
        }
        prefix.Add(bubblewrapPath);

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
        if (spec.WebFolder is not null && spec.WebSocket)
        {
            variables[ContainerProtocol.WebSocketVariable] = ContainerProtocol.WebSocketPathInContainer;
        }
        return new ContainerCommand(prefix[0], [.. prefix.Skip(1), .. args], spec.BundleDirectory, variables)
        {
            SeccompFilterFile = _sandbox.SeccompFilterFile,
        };
    }

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    private static bool IsUnder(string path, string folder) =>
        path == folder || path.StartsWith(folder + "/", StringComparison.Ordinal);
}

/// <summary>How <see cref="BubblewrapLauncher"/> confines a container beyond its namespaces.</summary>
/// <param name="User">The host uid and gid it runs as; null: the runner's own (a runner that is not root cannot drop to another).</param>
/// <param name="SeccompFilterFile">The BPF program of <see cref="SeccompFilter"/>; null: no seccomp profile.</param>
/// <param name="TmpBytes">Size of its writable <c>/tmp</c>.</param>
/// <param name="SetprivPath">util-linux's <c>setpriv</c>, which drops root to <paramref name="User"/>.</param>
/// <param name="NsenterPath">util-linux's <c>nsenter</c>, which enters the container's network namespace.</param>
public sealed record SandboxSettings(
    ContainerUser? User, string? SeccompFilterFile, long TmpBytes, string SetprivPath = "setpriv", string NsenterPath = "nsenter")
{
    /// <summary>The runner's uid, no seccomp profile, a 1 GiB <c>/tmp</c>.</summary>
    public static SandboxSettings Default { get; } = new(null, null, 1024L * 1024 * 1024);
}
