extern alias runner;

using runner::Modal.GpuRunner;
using runner::Modal.GpuRunner.Containers;

namespace Modal.Bench;

/// <summary>
/// scripts/gpu-check.sh's view of a GPU node through the runner's own code: what <see cref="GpuNodeLibraries"/> finds
/// (on stderr), and the command a container of <c>entry</c> holding <c>gpus</c> is started with (bubblewrap arguments
/// and environment, as the runner computes them; no seccomp profile or cgroup, which need the runner's set-up), one item
/// per line for <c>env -i</c>: <c>NAME=value</c> lines, then the program and its arguments.
/// </summary>
internal static class GpuNodeCheck
{
    public static int Print(string runtimeDirectory, string bundleDirectory, string entry, string? libtorch, IReadOnlyList<int> gpus)
    {
        var node = new GpuNodeLibraries(new GpuRunnerOptions { CudaLibtorchDirectory = libtorch }, File.Exists, Directory.Exists);
        Console.Error.WriteLine($"driver files:  {(node.DriverFiles.Count == 0 ? "none found" : string.Join(", ", node.DriverFiles.Select(f => f.HostPath)))}");
        Console.Error.WriteLine($"CUDA libtorch: {node.LibtorchDirectory ?? node.LibtorchProblem ?? "none given"}" +
            (node.LibtorchVersion is { } version ? $" (version {version})" : node.LibtorchDirectory is null ? "" : " (version unknown)"));
        var bundleFiles = Directory.GetFiles(bundleDirectory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(bundleDirectory, f));
        var plan = node.PlanFor(bundleFiles, isolated: true, BubblewrapLauncher.BundlePath);
        var environment = new Dictionary<string, string>(plan.Environment)
        {
            ["CUDA_VISIBLE_DEVICES"] = string.Join(',', gpus),
            // As the runner starts a function server; the check runs the app's local entrypoint instead (no socket).
            ["DOTNET_ROOT"] = Path.GetDirectoryName(DotnetHost.Resolve())!,
        };
        var launcher = new BubblewrapLauncher("bwrap", DotnetHost.Resolve(), new Dictionary<string, string>(), Path.Exists);
        var spec = new ContainerSpec("gpu-check", Path.GetFullPath(bundleDirectory), entry, environment) { GpuIndices = gpus, Binds = plan.Binds };
        var command = launcher.Command(spec, runtimeDirectory, environment);
        foreach (var (name, value) in command.Environment.Where(v => v.Key != Modal.Container.Protocol.ContainerProtocol.SocketVariable))
        {
            Console.WriteLine($"{name}={value}");
        }
        Console.WriteLine(command.FileName);
        foreach (var argument in command.Arguments)
        {
            Console.WriteLine(argument);
        }
        return 0;
    }
}
