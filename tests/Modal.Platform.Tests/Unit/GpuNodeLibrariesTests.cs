using Modal.Container.Protocol;
using Modal.GpuRunner;
using Modal.GpuRunner.Containers;

namespace Modal.Platform.Tests.Unit;

public sealed class GpuNodeLibrariesTests
{
    // A GPU-operator node like the H200 host checked: driver under /usr/local/nvidia, a PyTorch install's libtorch.
    private static readonly HashSet<string> Files =
    [
        "/usr/local/nvidia/lib64/libcuda.so.1", "/usr/local/nvidia/lib64/libnvidia-ml.so.1", "/usr/local/nvidia/bin/nvidia-smi",
        "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/opt/torch/lib/libtorch_cuda.so", "/opt/torch/lib/libtorch_cpu.so", "/opt/torch/lib/libc10.so",
    ];

    private static readonly string[] Bundle =
        ["App.dll", "runtimes/linux-x64/native/libtorch_cpu.so", "runtimes/linux-x64/native/libc10.so", "runtimes/linux-x64/native/libLibTorchSharp.so"];

    private static GpuNodeLibraries Node(string? libtorch = "/opt/torch/lib") =>
        new(new GpuRunnerOptions { CudaLibtorchDirectory = libtorch }, Files.Contains, folder => folder == "/opt/torch/lib");

    [Fact]
    public void Discovery_DriverFilesFirstMatchFirst()
    {
        var node = Node();

        Assert.Equal(
            [("libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1"), ("libnvidia-ml.so.1", "/usr/local/nvidia/lib64/libnvidia-ml.so.1"),
             ("nvidia-smi", "/usr/local/nvidia/bin/nvidia-smi")],
            node.DriverFiles);
        Assert.Equal("/opt/torch/lib", node.LibtorchDirectory);
    }

    [Fact]
    public void PlanFor_IsolatedContainer_DriverAndLibtorchReadOnlyAndTheBundlesLibtorchFilesOverlaid()
    {
        var plan = Node().PlanFor(Bundle, isolated: true, "/app");

        Assert.All(plan.Binds, bind => Assert.True(bind.ReadOnly));
        Assert.Equal(
            [
                ("/usr/local/nvidia/lib64/libcuda.so.1", "/run/modal-gpu/driver/lib/libcuda.so.1"),
                ("/usr/local/nvidia/lib64/libnvidia-ml.so.1", "/run/modal-gpu/driver/lib/libnvidia-ml.so.1"),
                ("/usr/local/nvidia/bin/nvidia-smi", "/run/modal-gpu/driver/bin/nvidia-smi"),
                ("/opt/torch/lib", GpuContainerLayout.LibtorchPath),
                // One copy of libtorch in the process, whichever path TorchSharp loads it by; its own shim stays.
                ("/opt/torch/lib/libtorch_cpu.so", "/app/runtimes/linux-x64/native/libtorch_cpu.so"),
                ("/opt/torch/lib/libc10.so", "/app/runtimes/linux-x64/native/libc10.so"),
            ],
            plan.Binds.Select(b => (b.HostPath, b.ContainerPath)));
        Assert.Equal("/run/modal-gpu/libtorch:/run/modal-gpu/driver/lib", plan.Environment["LD_LIBRARY_PATH"]);
        Assert.StartsWith("/run/modal-gpu/driver/bin:", plan.Environment["PATH"], StringComparison.Ordinal);
        Assert.Equal(GpuContainerLayout.LibtorchPath, plan.Environment[GpuContainerLayout.LibtorchVariable]);
        Assert.Equal("libcuda.so.1,libnvidia-ml.so.1,nvidia-smi", plan.Environment[GpuContainerLayout.DriverFilesVariable]);
    }

    [Fact]
    public void PlanFor_PlainProcess_NodePathsNoBinds()
    {
        var plan = Node().PlanFor(Bundle, isolated: false, "/app");

        Assert.Empty(plan.Binds);
        Assert.Equal("/opt/torch/lib:/usr/local/nvidia/lib64", plan.Environment["LD_LIBRARY_PATH"]);
        Assert.StartsWith("/usr/local/nvidia/bin:", plan.Environment["PATH"], StringComparison.Ordinal);
    }

    [Fact]
    public void Discovery_LibtorchFolderWithoutCuda_NotUsedAndSaysWhy()
    {
        var node = Node("/opt/cpu-only/lib");

        Assert.Null(node.LibtorchDirectory);
        Assert.Contains("holds no libtorch_cuda.so", node.LibtorchProblem, StringComparison.Ordinal);
        Assert.False(node.PlanFor(Bundle, isolated: true, "/app").Environment.ContainsKey(GpuContainerLayout.LibtorchVariable));
    }

    [Fact]
    public void PlanFor_NodeWithoutDriver_SaysItFoundNone()
    {
        var node = new GpuNodeLibraries(new GpuRunnerOptions(), _ => false, _ => false);

        Assert.Equal("", node.PlanFor(Bundle, isolated: true, "/app").Environment[GpuContainerLayout.DriverFilesVariable]);
    }
}
