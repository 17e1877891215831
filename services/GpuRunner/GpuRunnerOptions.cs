using System.ComponentModel.DataAnnotations;
using Modal.Api.Contracts.Gpus;
using Modal.GpuRunner.Domain;

namespace Modal.GpuRunner;

/// <summary>Settings of one runner node (section <c>GpuRunner</c>).</summary>
public sealed class GpuRunnerOptions
{
    public const string SectionName = "GpuRunner";

    /// <summary>Stable id of this node; defaults to the host name, which is unique per machine.</summary>
    [Required, RegularExpression("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        ErrorMessage = "GpuRunner:RunnerId must be 1-128 letters, digits, dots, dashes or underscores.")]
    public string RunnerId { get; set; } = Environment.MachineName;

    /// <summary>How often the runner reports its capacity and containers to the Scheduler (whose view of busy and idle containers is this fresh).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "GpuRunner:HeartbeatInterval must be between 100 ms and 5 minutes.")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// GPUs to pretend this node has, for machines without GPUs (development, CI, placement tests): entries
    /// <c>TYPE</c> or <c>TYPE:COUNT</c> ("T4", "H100:2"), a type of <see cref="GpuRequest.KnownTypes"/>. They take part
    /// in placement only: a container given one sees its index in <c>CUDA_VISIBLE_DEVICES</c> but no device. They are
    /// reported as simulated everywhere they are shown.
    /// </summary>
    [SimulatedGpus]
    public List<string> SimulatedGpus { get; set; } = [];

    /// <summary>
    /// Find the node's real GPUs with nvidia-smi (default) when no <see cref="SimulatedGpus"/> are declared; a node
    /// without nvidia-smi has none.
    /// </summary>
    public bool DiscoverGpus { get; set; } = true;

    /// <summary>Where bundles and their files are cached on this node.</summary>
    [Required(ErrorMessage = "GpuRunner:CacheDirectory is required.")]
    public string CacheDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "modal-runner", "cache");

    /// <summary>Where containers get their sockets (short: Unix socket paths are limited to ~100 bytes).</summary>
    [Required(ErrorMessage = "GpuRunner:RuntimeDirectory is required.")]
    public string RuntimeDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "modal-runner", "run");

    /// <summary>How long a container may take from process start to listening.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00", ErrorMessage = "GpuRunner:ContainerStartupTimeout must be between 1 second and 30 minutes.")]
    public TimeSpan ContainerStartupTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Base address of the Storage service (bundles); under Aspire, service discovery resolves <c>http://storage</c>.</summary>
    [Required(ErrorMessage = "GpuRunner:StorageUrl is required.")]
    public Uri StorageUrl { get; set; } = new("http://storage");

    /// <summary>
    /// The Api's address as containers know it (<c>MODAL_SERVER_URL</c> inside them), with a token of their own, so
    /// functions can use Dicts, Queues, Volumes and other functions. Containers reach it only through the runner's
    /// platform socket, which forwards requests for this authority here. Null: containers get no platform access.
    /// Not resolved by service discovery (the forwarder connects to it as given), so give a real address, plain http.
    /// </summary>
    public Uri? ApiUrl { get; set; }

    /// <summary>
    /// Storage's address as the Api hands it out for direct access (the Api's <c>Api:StoragePublicUrl</c>): the platform
    /// socket forwards requests for this authority to Storage. Null: containers use Dicts, Queues and Volumes through
    /// the Api (the SDK falls back when the socket refuses Storage's address).
    /// </summary>
    public Uri? StoragePublicUrl { get; set; }

    /// <summary>
    /// Extra environment variables for every container (site settings such as a proxy). Containers do not inherit
    /// the runner's own environment, which holds its infrastructure credentials.
    /// </summary>
    public Dictionary<string, string> ContainerEnvironment { get; set; } = [];

    /// <summary>Base address of the Secrets service (values of functions' secrets); under Aspire, service discovery resolves <c>http://secrets</c>.</summary>
    [Required(ErrorMessage = "GpuRunner:SecretsUrl is required.")]
    public Uri SecretsUrl { get; set; } = new("http://secrets");

    /// <summary>
    /// The credential this runner presents to the Secrets service (its <c>Secrets:RunnerKey</c>), and the one its web
    /// forwarder requires of ingresses (header <c>Modal-Runner-Key</c>). Optional: a runner without one runs every function
    /// except those that use secrets, whose calls fail saying so, and its web forwarder answers 503.
    /// </summary>
    public string? RunnerKey { get; set; }

    /// <summary>
    /// Where ingresses reach this runner's web forwarder (its own HTTP address, announced in <c>WebContainerReady</c> and
    /// heartbeats). Null: the address the runner listens on, read at start (a wildcard host becomes the machine's name);
    /// set it where that address is not the one other nodes reach.
    /// </summary>
    public Uri? WebForwarderUrl { get; set; }

    /// <summary>CPU cores offered to containers; defaults to every core of the machine.</summary>
    [Range(0.1, 4096, ErrorMessage = "GpuRunner:CpuCores must be between 0.1 and 4096.")]
    public double CpuCores { get; set; } = Environment.ProcessorCount;

    /// <summary>Memory offered to containers in MiB; defaults to the memory the runtime sees.</summary>
    [Range(64, long.MaxValue, ErrorMessage = "GpuRunner:MemoryMiB must be at least 64.")]
    public long MemoryMiB { get; set; } = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024 * 1024);

    /// <summary>
    /// How containers are isolated: <c>bubblewrap</c> (own Linux namespaces, the system read-only, only its bundle, volumes
    /// and GPUs), <c>process</c> (a plain child process: no isolation) or <c>auto</c> (bubblewrap when this host permits
    /// it, else process, reported as degraded health and announced to every container).
    /// </summary>
    [Required, RegularExpression("^(auto|bubblewrap|process)$", ErrorMessage = "GpuRunner:ContainerBackend must be auto, bubblewrap or process.")]
    public string ContainerBackend { get; set; } = "auto";

    /// <summary>The bubblewrap executable (Debian's <c>bubblewrap</c> package).</summary>
    [Required(ErrorMessage = "GpuRunner:BubblewrapPath is required.")]
    public string BubblewrapPath { get; set; } = "bwrap";

    /// <summary>
    /// Where this runner makes its containers' cgroups: <c>/sys/fs/cgroup</c> (v1 or v2, found out at start). Limits are
    /// not enforced by cgroups where it is not writable; an RSS watchdog stands in for the memory limit.
    /// </summary>
    [Required(ErrorMessage = "GpuRunner:CgroupRoot is required.")]
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    /// <summary>Processes and threads one container may have (the cgroup's pids limit; .NET uses a thread per pid).</summary>
    [Range(16, 1_000_000, ErrorMessage = "GpuRunner:ContainerPidsLimit must be between 16 and 1000000.")]
    public int ContainerPidsLimit { get; set; } = 4096;

    /// <summary>
    /// The host uid an isolated container's processes run as (a runner running as root drops to it; numeric, it needs no
    /// passwd entry). Dedicated: no daemon of the node may use it, since a container can do whatever it may. Its files
    /// (runtime folder, Volume copies) are handed to it; the site's <see cref="ContainerBinds"/> must be reachable by it.
    /// </summary>
    [Range(1, int.MaxValue, ErrorMessage = "GpuRunner:ContainerUid must be a non-root uid.")]
    public int ContainerUid { get; set; } = 61000;

    /// <summary>The host gid of an isolated container's processes (no supplementary groups).</summary>
    [Range(1, int.MaxValue, ErrorMessage = "GpuRunner:ContainerGid must be a non-root gid.")]
    public int ContainerGid { get; set; } = 61000;

    /// <summary>
    /// The host uid (and gid) slirp4netns runs as, giving containers egress: the runner's nftables table refuses the
    /// node's own addresses and link-local ones to this uid, so it must be used by nothing else.
    /// </summary>
    [Range(1, int.MaxValue, ErrorMessage = "GpuRunner:NetworkUid must be a non-root uid.")]
    public int NetworkUid { get; set; } = 61001;

    /// <summary>The slirp4netns executable (Debian's <c>slirp4netns</c>): user-mode networking for containers' own network namespaces.</summary>
    [Required(ErrorMessage = "GpuRunner:SlirpPath is required.")]
    public string SlirpPath { get; set; } = "slirp4netns";

    /// <summary>
    /// Network namespaces (each with its slirp4netns) kept ready, so a container start does not wait for one; 0 makes
    /// each when its container starts.
    /// </summary>
    [Range(0, 64, ErrorMessage = "GpuRunner:NetworkPoolSize must be between 0 and 64.")]
    public int NetworkPoolSize { get; set; } = 2;

    /// <summary>
    /// Size of an isolated container's writable <c>/tmp</c> (memory-backed, counted in its memory limit), in MiB. Modal's
    /// containers get an ephemeral disk; this is its stand-in.
    /// </summary>
    [Range(1, 1_048_576, ErrorMessage = "GpuRunner:ContainerTmpMiB must be between 1 and 1048576.")]
    public int ContainerTmpMiB { get; set; } = 1024;

    /// <summary>
    /// Host folders every isolated container sees, as <c>host path → container path</c> (read-write): site data such as a
    /// shared dataset cache. Empty by default: a container sees nothing of the host but the system.
    /// </summary>
    public Dictionary<string, string> ContainerBinds { get; set; } = [];

    /// <summary>
    /// The node's CUDA libtorch: the folder holding <c>libtorch_cuda.so</c> (a libtorch archive's <c>lib</c>, or a
    /// PyTorch install's <c>torch/lib</c>), of the version the apps' TorchSharp binds (0.107: libtorch 2.10). Containers
    /// holding GPUs see it read-only, and it stands in for the CPU libtorch their bundle carries. Null: none; TorchSharp
    /// functions asking for a GPU then fail at start saying so. See docs/gpu-nodes.md.
    /// </summary>
    public string? CudaLibtorchDirectory { get; set; }

    /// <summary>
    /// Where the runner looks for the NVIDIA driver's user-space libraries (<c>libcuda.so.1</c>, <c>libnvidia-ml.so.1</c>, …)
    /// and tools (<c>nvidia-smi</c>) to bind into containers holding GPUs, first match first. Empty (the default):
    /// <see cref="DefaultDriverSearchPaths"/>.
    /// </summary>
    public List<string> DriverSearchPaths { get; set; } = [];

    /// <summary>Debian/Ubuntu packages, RHEL, and GPU-operator nodes (<c>/usr/local/nvidia</c>, as on the H200 host checked).</summary>
    public static readonly IReadOnlyList<string> DefaultDriverSearchPaths =
        ["/usr/local/nvidia/lib64", "/usr/local/nvidia/bin", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/bin"];

    /// <summary>
    /// The user image builds run as (a non-root uid with a <c>/etc/subuid</c> and <c>/etc/subgid</c> range of at least
    /// 65,536 ids, which root inside a build is mapped to); <c>scripts/install-infra.sh</c> makes <c>modal-build</c>.
    /// </summary>
    public string ImageBuildUser { get; set; } = "modal-build";

    /// <summary>Debian's <c>mmdebstrap</c>, which builds Debian bases.</summary>
    public string MmdebstrapPath { get; set; } = "mmdebstrap";

    /// <summary>Longest an image build may run (all its new steps together); past it the build fails. Default 20 min.</summary>
    public TimeSpan ImageBuildTimeout { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>
    /// Largest layer (the uncompressed tar of an image's root file system) a build may store; default 4 GiB, which is
    /// also Storage's largest request body.
    /// </summary>
    public long ImageMaxBytes { get; set; } = 4L * 1024 * 1024 * 1024;
}
