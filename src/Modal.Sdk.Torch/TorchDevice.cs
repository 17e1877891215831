using TorchSharp;

namespace Modal.Torch;

/// <summary>
/// The device a function's tensors go to: CUDA when its container was given GPUs (<c>CUDA_VISIBLE_DEVICES</c>) and
/// CUDA libtorch loads, the CPU when it holds none. A container that holds GPUs and cannot use CUDA (no driver, no CUDA
/// libtorch, a version mismatch, simulated GPUs) fails with <see cref="CudaUnavailableException"/> saying why, never
/// silently on the CPU. Outside a container (a local run) it takes CUDA when it can, else the CPU.
/// </summary>
/// <example>
/// <code>
/// var app = new App("hello-gpu");
/// TorchDevice.EnsureAtStart(); // a GPU container that cannot use CUDA fails as it starts
/// app.Function("matmul", () => torch.ones(2, 2, device: TorchDevice.Current).sum().item&lt;float&gt;(), new FunctionOptions { Gpu = "T4" });
/// </code>
/// </example>
public static class TorchDevice
{
    private static readonly Lazy<TorchDeviceChoice> Chosen = new(Choose, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The device, chosen once per process (the first use loads libtorch).</summary>
    /// <exception cref="CudaUnavailableException">The container holds GPUs and cannot use CUDA.</exception>
    public static torch.Device Current => Choice.Device;

    /// <summary>The device with the reason it was chosen.</summary>
    /// <exception cref="CudaUnavailableException">The container holds GPUs and cannot use CUDA.</exception>
    public static TorchDeviceChoice Choice => Chosen.Value;

    /// <summary>
    /// In a container, chooses the device now, so that a container holding GPUs it cannot use fails as it starts (the
    /// caller's error carries this message); elsewhere (a local run, <c>modal deploy</c> reading the app) does nothing.
    /// Call it once, before any other use of TorchSharp.
    /// </summary>
    /// <exception cref="CudaUnavailableException">The container holds GPUs and cannot use CUDA.</exception>
    public static void EnsureAtStart()
    {
        if (DeviceProbe.FromEnvironment().InContainer)
        {
            _ = Choice;
        }
    }

    private static TorchDeviceChoice Choose()
    {
        var decision = DeviceProbe.Resolve(out _);
        return decision.Verdict switch
        {
            DeviceVerdict.Cuda => new TorchDeviceChoice(torch.CUDA, decision.Reason),
            DeviceVerdict.Fail => throw new CudaUnavailableException(decision.Reason),
            _ => new TorchDeviceChoice(torch.CPU, decision.Reason),
        };
    }
}

/// <summary>A chosen device and why.</summary>
/// <param name="Device">CUDA (the container's first visible GPU) or the CPU.</param>
/// <param name="Reason">Why: which GPUs the container holds and what torch sees, or why it runs on the CPU.</param>
public sealed record TorchDeviceChoice(torch.Device Device, string Reason)
{
    /// <summary>Whether tensors go to a GPU.</summary>
    public bool IsCuda => Device.type == DeviceType.CUDA;
}

/// <summary>
/// A function whose container holds GPUs cannot use CUDA; the message says why (simulated GPUs, no driver, no CUDA
/// libtorch, a libtorch version mismatch, torch seeing no device) and what the node needs.
/// </summary>
public sealed class CudaUnavailableException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public CudaUnavailableException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public CudaUnavailableException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public CudaUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
