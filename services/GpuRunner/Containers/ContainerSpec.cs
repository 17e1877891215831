namespace Modal.GpuRunner.Containers;

/// <summary>What a container runs: the entry assembly of an app bundle, with its environment.</summary>
/// <param name="ContainerId">Unique id, also the name of its runtime folder.</param>
/// <param name="BundleDirectory">The unpacked bundle (working directory of the process).</param>
/// <param name="EntryAssembly">The app's entry assembly, relative to the bundle (e.g. <c>HelloWorld.dll</c>).</param>
/// <param name="Environment">Extra environment: secrets, the function's env, <c>CUDA_VISIBLE_DEVICES</c>.</param>
public sealed record ContainerSpec(
    string ContainerId, string BundleDirectory, string EntryAssembly, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>Folders bound into an isolated container (its Volumes at their mount paths); a plain process ignores them.</summary>
    public IReadOnlyList<ContainerBind> Binds { get; init; } = [];

    /// <summary>No network at all (an isolated container gets a network namespace of its own with only loopback).</summary>
    public bool BlockNetwork { get; init; }

    /// <summary>
    /// The network namespace the runner made for the container (<c>/run/netns/…</c>, egress through slirp4netns), which
    /// it enters before its sandbox starts; null: none was made (blocked network, or this node cannot make one).
    /// </summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>The GPUs the container holds (runner indices); an isolated container sees only their device files.</summary>
    public IReadOnlyList<int> GpuIndices { get; init; } = [];

    /// <summary>
    /// The runner's platform socket folder (holding <see cref="Platform.PlatformSocket.FileName"/>), the container's only
    /// way to the Api and Storage; null: the container gets no platform access.
    /// </summary>
    public string? PlatformSocketFolder { get; init; }

    /// <summary>
    /// The host folder of a server container's web socket (<c>AspNetApp</c> and <c>Server</c>), which an isolated container
    /// sees at <c>/run/modal-web</c>; null for other containers.
    /// </summary>
    public string? WebFolder { get; init; }

    /// <summary>
    /// Whether the container's app listens on a Unix socket in <see cref="WebFolder"/> (an <c>AspNetApp</c>): the launcher
    /// tells it where (<c>MODAL_WEB_SOCKET</c>), as the container sees the path.
    /// </summary>
    public bool WebSocket { get; init; }

    /// <summary>
    /// The container's root file system (an image unpacked on this node), bound read-only at <c>/</c> in place of the
    /// node's system folders; null: the node's own system. Only an isolating launcher can honour it.
    /// </summary>
    public string? ImageRoot { get; init; }

    /// <summary>The working directory inside an image (its <c>Workdir</c>); null: the bundle's folder.</summary>
    public string? Workdir { get; init; }

    /// <summary><c>cgroup.procs</c> files the container's first process joins before it starts the program (none: no cgroup).</summary>
    public IReadOnlyList<string> CgroupProcsFiles { get; init; } = [];
}

/// <summary>The container exited, or never came up, while inputs were in flight.</summary>
public sealed class ContainerCrashedException(string message) : Exception(message);

/// <summary>The function asks for GPUs this runner does not have free.</summary>
public sealed class NoGpuAvailableException(string message) : Exception(message);
