namespace Modal.Torch;

/// <summary>What decides a function's device, as found in this process (<see cref="DeviceProbe"/>).</summary>
internal sealed record DeviceFacts
{
    /// <summary>The process is a container's function server (a runner started it).</summary>
    public required bool InContainer { get; init; }

    /// <summary><c>CUDA_VISIBLE_DEVICES</c> as the process got it; null when unset.</summary>
    public required string? VisibleDevices { get; init; }

    /// <summary>The runner's GPUs are simulated (<c>GpuRunner:SimulatedGpus</c>): no device stands behind them.</summary>
    public bool SimulatedGpus { get; init; }

    /// <summary>Why the driver (<c>libcuda.so.1</c>) does not load; null when it does.</summary>
    public string? DriverProblem { get; init; }

    /// <summary>The node's CUDA libtorch as the container sees it; null when the runner bound none.</summary>
    public string? NodeLibtorch { get; init; }

    /// <summary>The node's CUDA libtorch version (<c>2.10.0+cu128</c>); null when unknown.</summary>
    public string? NodeLibtorchVersion { get; init; }

    /// <summary>The libtorch version this TorchSharp binds (<c>2.10.0</c>).</summary>
    public required string ExpectedLibtorchVersion { get; init; }

    /// <summary>Why CUDA libtorch (<c>libtorch_cuda.so</c>) does not load; null when it does or was not tried.</summary>
    public string? CudaLibtorchProblem { get; init; }

    /// <summary>What <c>torch.cuda.is_available()</c> said; null when not asked yet.</summary>
    public bool? CudaAvailable { get; init; }

    /// <summary>How many CUDA devices torch sees (when <see cref="CudaAvailable"/>).</summary>
    public int CudaDeviceCount { get; init; }
}
