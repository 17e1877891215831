using Microsoft.Extensions.Options;
using Modal.Container.Protocol;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// The node's GPU software that containers holding GPUs are given, found once at start: the NVIDIA driver's user-space
/// libraries and <c>nvidia-smi</c> (as NVIDIA's container toolkit injects them) and, where configured, a CUDA libtorch
/// (<see cref="GpuRunnerOptions.CudaLibtorchDirectory"/>). An isolated container sees them read-only at
/// <see cref="GpuContainerLayout"/>'s paths, and the node's libtorch files are bound over the same-named CPU libtorch
/// files of its bundle, so every path TorchSharp may load a libtorch library from is the node's one copy (two copies of
/// libtorch in one process abort it).
/// </summary>
public sealed partial class GpuNodeLibraries
{
    /// <summary>The driver's user-space files a CUDA process may open (what the toolkit's <c>compute,utility</c> capabilities inject).</summary>
    public static readonly IReadOnlyList<string> DriverFileNames =
    [
        "libcuda.so.1", "libcuda.so", "libnvidia-ml.so.1", "libnvidia-ptxjitcompiler.so.1", "libnvidia-nvvm.so.4", "libcudadebugger.so.1",
        "libnvidia-gpucomp.so", "nvidia-smi",
    ];

    public GpuNodeLibraries(IOptions<GpuRunnerOptions> options, ILogger<GpuNodeLibraries> logger)
        : this(options?.Value ?? throw new ArgumentNullException(nameof(options)), File.Exists, Directory.Exists)
    {
        Log(logger);
    }

    /// <summary>Finds the node's files with <paramref name="fileExists"/> and <paramref name="directoryExists"/> (tests give their own).</summary>
    public GpuNodeLibraries(GpuRunnerOptions settings, Func<string, bool> fileExists, Func<string, bool> directoryExists)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _fileExists = fileExists;
        var searched = settings.DriverSearchPaths.Count > 0 ? settings.DriverSearchPaths : GpuRunnerOptions.DefaultDriverSearchPaths;
        var found = new List<(string, string)>();
        foreach (var name in DriverFileNames)
        {
            if (searched.Select(folder => Path.Combine(folder, name)).FirstOrDefault(fileExists) is { } path)
            {
                found.Add((name, path));
            }
        }
        DriverFiles = found;
        if (settings.CudaLibtorchDirectory is { Length: > 0 } libtorch)
        {
            if (!directoryExists(libtorch) || !fileExists(Path.Combine(libtorch, "libtorch_cuda.so")))
            {
                LibtorchProblem = $"GpuRunner:CudaLibtorchDirectory '{libtorch}' holds no libtorch_cuda.so";
            }
            else
            {
                LibtorchDirectory = libtorch;
                LibtorchVersion = Modal.Container.Protocol.LibtorchVersion.Read(libtorch);
            }
        }
    }

    private readonly Func<string, bool> _fileExists;

    /// <summary>Driver files found: file name → path on the node.</summary>
    public IReadOnlyList<(string Name, string HostPath)> DriverFiles { get; }

    /// <summary>The node's CUDA libtorch folder; null when none is configured or it is not one.</summary>
    public string? LibtorchDirectory { get; }

    /// <summary>Its version (<c>2.10.0+cu128</c>) when the folder says.</summary>
    public string? LibtorchVersion { get; }

    /// <summary>Why a configured CUDA libtorch is not used; null when fine or none is configured.</summary>
    public string? LibtorchProblem { get; }

    /// <summary>
    /// What a container holding GPUs gets: read-only binds (for an isolated container) and variables. An isolated
    /// container sees everything at <see cref="GpuContainerLayout"/>'s paths; a plain process gets the node's paths.
    /// </summary>
    /// <param name="bundleFiles">The bundle's files (paths relative to it), for the libtorch files bound over the bundle's.</param>
    /// <param name="isolated">Whether the container is isolated (binds are possible).</param>
    /// <param name="bundlePath">Where the isolated container sees its bundle.</param>
    public GpuContainerPlan PlanFor(IEnumerable<string> bundleFiles, bool isolated, string bundlePath)
    {
        ArgumentNullException.ThrowIfNull(bundleFiles);
        var binds = new List<ContainerBind>();
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [GpuContainerLayout.DriverFilesVariable] = string.Join(',', DriverFiles.Select(file => file.Name)),
        };
        var libraryPath = new List<string>();
        var toolPath = new List<string>();
        foreach (var (name, host) in DriverFiles)
        {
            var tool = !name.StartsWith("lib", StringComparison.Ordinal);
            var folder = tool ? GpuContainerLayout.DriverToolPath : GpuContainerLayout.DriverLibraryPath;
            if (isolated)
            {
                binds.Add(new ContainerBind(host, $"{folder}/{name}", ReadOnly: true));
            }
            AddOnce(tool ? toolPath : libraryPath, isolated ? folder : Path.GetDirectoryName(host)!);
        }
        if (LibtorchDirectory is { } libtorch)
        {
            var seen = isolated ? GpuContainerLayout.LibtorchPath : libtorch;
            variables[GpuContainerLayout.LibtorchVariable] = seen;
            if (LibtorchVersion is { } version)
            {
                variables[GpuContainerLayout.LibtorchVersionVariable] = version;
            }
            libraryPath.Insert(0, seen);
            if (isolated)
            {
                binds.Add(new ContainerBind(libtorch, GpuContainerLayout.LibtorchPath, ReadOnly: true));
                foreach (var file in bundleFiles.Where(IsNativeLibrary))
                {
                    var own = Path.Combine(libtorch, Path.GetFileName(file));
                    if (_fileExists(own))
                    {
                        binds.Add(new ContainerBind(own, $"{bundlePath}/{file}", ReadOnly: true));
                    }
                }
            }
        }
        if (libraryPath.Count > 0)
        {
            variables["LD_LIBRARY_PATH"] = string.Join(':', libraryPath);
        }
        // Containers get no PATH of the runner's; one holding GPUs finds nvidia-smi first.
        variables["PATH"] = string.Join(':', toolPath.Append("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
        return new GpuContainerPlan(binds, variables);
    }

    private static bool IsNativeLibrary(string file)
    {
        var name = Path.GetFileName(file);
        return name.EndsWith(".so", StringComparison.Ordinal) || name.Contains(".so.", StringComparison.Ordinal);
    }

    private static void AddOnce(List<string> list, string item)
    {
        if (!list.Contains(item, StringComparer.Ordinal))
        {
            list.Add(item);
        }
    }

    private void Log(ILogger logger)
    {
        LogFound(logger, DriverFiles.Count == 0 ? "none" : string.Join(", ", DriverFiles.Select(f => f.HostPath)),
            LibtorchDirectory is null ? LibtorchProblem ?? "none configured" : $"{LibtorchDirectory} ({LibtorchVersion ?? "version unknown"})");
        if (LibtorchProblem is not null)
        {
            LogLibtorchProblem(logger, LibtorchProblem);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "GPU node software: driver files {Driver}; CUDA libtorch {Libtorch}")]
    private static partial void LogFound(ILogger logger, string driver, string libtorch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CUDA libtorch NOT given to GPU containers: {Reason}")]
    private static partial void LogLibtorchProblem(ILogger logger, string reason);
}

/// <summary>What a container holding GPUs gets of the node's GPU software.</summary>
/// <param name="Binds">Read-only binds (isolated containers only).</param>
/// <param name="Environment">Variables: where the driver and libtorch are, <c>LD_LIBRARY_PATH</c>, <c>PATH</c>.</param>
public sealed record GpuContainerPlan(IReadOnlyList<ContainerBind> Binds, IReadOnlyDictionary<string, string> Environment);
