using System.Reflection;
using System.Runtime.InteropServices;
using Modal.Container.Protocol;
using TorchSharp;

namespace Modal.Torch;

/// <summary>
/// Finds the facts <see cref="DevicePolicy"/> decides on, cheapest first and only as far as needed: the environment the
/// runner set, then the driver, then CUDA libtorch and torch itself. Nothing of torch is touched before CUDA libtorch is
/// loaded, so a GPU container never initialises the CPU backend first.
/// </summary>
internal static class DeviceProbe
{
    /// <summary>The runner's simulated GPUs carry this in their UUIDs (NVIDIA_VISIBLE_DEVICES).</summary>
    private const string SimulatedUuidMarker = "GPU-simulated-";

    /// <summary>Decides, probing further while the policy asks for it.</summary>
    public static DeviceDecision Resolve(out DeviceFacts facts)
    {
        facts = FromEnvironment();
        var decision = DevicePolicy.Decide(facts);
        if (decision.Verdict != DeviceVerdict.ProbeCuda)
        {
            return decision;
        }
        facts = facts with { DriverProblem = DriverProblem() };
        decision = DevicePolicy.Decide(facts);
        if (decision.Verdict != DeviceVerdict.ProbeCuda)
        {
            return decision;
        }
        facts = WithCuda(facts);
        decision = DevicePolicy.Decide(facts);
        return decision.Verdict == DeviceVerdict.ProbeCuda ? new(DeviceVerdict.Cpu, "CUDA could not be probed") : decision;
    }

    public static DeviceFacts FromEnvironment()
    {
        var libtorch = Variable(GpuContainerLayout.LibtorchVariable);
        return new DeviceFacts
        {
            InContainer = Variable(ContainerProtocol.SocketVariable) is not null,
            VisibleDevices = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES"),
            SimulatedGpus = Variable("NVIDIA_VISIBLE_DEVICES")?.Contains(SimulatedUuidMarker, StringComparison.Ordinal) == true,
            NodeLibtorch = libtorch,
            NodeLibtorchVersion = Variable(GpuContainerLayout.LibtorchVersionVariable) ?? LibtorchVersion.Read(libtorch),
            ExpectedLibtorchVersion = ExpectedLibtorchVersion(),
        };
    }

    /// <summary>
    /// The libtorch version this TorchSharp was built against: its private constant, read without running torch's static
    /// constructor (which would load the CPU backend).
    /// </summary>
    public static string ExpectedLibtorchVersion() =>
        typeof(torch).GetField("libtorchPackageVersion", BindingFlags.NonPublic | BindingFlags.Static)?.GetRawConstantValue() as string
        ?? "2.10.0";

    private static string? DriverProblem()
    {
        if (Environment.GetEnvironmentVariable(GpuContainerLayout.DriverFilesVariable) is { Length: 0 })
        {
            return "the runner found no driver libraries on its node (libcuda.so.1; see docs/gpu-nodes.md)";
        }
        return LoadProblem("libcuda.so.1") is { } problem ? $"libcuda.so.1 does not load ({problem})" : null;
    }

    private static DeviceFacts WithCuda(DeviceFacts facts)
    {
        // By path when the runner bound the node's libtorch: its dependencies then resolve there (LD_LIBRARY_PATH names it too).
        var library = facts.NodeLibtorch is { } folder ? Path.Combine(folder, "libtorch_cuda.so") : "libtorch_cuda.so";
        if (LoadProblem(library) is { } problem)
        {
            return facts with { CudaLibtorchProblem = problem };
        }
        try
        {
            var available = torch.cuda.is_available();
            return facts with { CudaAvailable = available, CudaDeviceCount = available ? torch.cuda.device_count() : 0 };
        }
        catch (Exception e) when (e is TypeInitializationException or NotSupportedException or InvalidOperationException or DllNotFoundException
            or EntryPointNotFoundException)
        {
            // LibTorchSharp built for another libtorch fails here with missing symbols.
            return facts with { CudaLibtorchProblem = $"TorchSharp does not load against it: {(e.InnerException ?? e).Message.Split('\n')[0]}" };
        }
    }

    private static string? LoadProblem(string library)
    {
        try
        {
            NativeLibrary.Load(library);
            return null;
        }
        catch (DllNotFoundException e)
        {
            // .NET's message ends with the loader's own (dlerror), after advice about strace: that last line is the reason.
            return e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
        }
        catch (BadImageFormatException e)
        {
            return e.Message;
        }
    }

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
