namespace Modal.Torch;

/// <summary>What <see cref="DevicePolicy.Decide"/> concluded.</summary>
internal enum DeviceVerdict
{
    /// <summary>Run on the CPU.</summary>
    Cpu,

    /// <summary>Run on CUDA.</summary>
    Cuda,

    /// <summary>Load CUDA libtorch and ask torch, then decide again.</summary>
    ProbeCuda,

    /// <summary>The container holds GPUs it cannot use: fail, saying why.</summary>
    Fail,
}

/// <summary>A verdict and the sentence that explains it (shown to the user on failure, logged otherwise).</summary>
internal sealed record DeviceDecision(DeviceVerdict Verdict, string Reason);

/// <summary>
/// Chooses a function's device. A container that holds GPUs (<c>CUDA_VISIBLE_DEVICES</c> names some) must get CUDA or
/// fail saying why: a function that asked for a GPU never runs silently on the CPU. A container without GPUs runs on
/// the CPU; a process outside a container (a local run) uses CUDA when it can, else the CPU.
/// </summary>
internal static class DevicePolicy
{
    public static DeviceDecision Decide(DeviceFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var gpus = HeldGpus(facts.VisibleDevices);
        if (gpus is null)
        {
            return new(DeviceVerdict.Cpu, facts.InContainer
                ? "this container holds no GPU (the function asked for none)"
                : "CUDA_VISIBLE_DEVICES hides every GPU");
        }
        var required = facts.InContainer;
        var held = $"this container holds GPU(s) {gpus} (CUDA_VISIBLE_DEVICES)";
        var problem = Problem(facts);
        if (problem is not null)
        {
            return required
                ? new(DeviceVerdict.Fail, $"The function asked for a GPU and cannot use CUDA: {held}, but {problem}.")
                : new(DeviceVerdict.Cpu, $"CUDA is not usable here ({problem})");
        }
        if (facts.CudaAvailable is null)
        {
            return new(DeviceVerdict.ProbeCuda, "the driver is there; CUDA libtorch is to be loaded");
        }
        return new(DeviceVerdict.Cuda, required
            ? $"{held}; torch sees {facts.CudaDeviceCount} CUDA device(s)"
            : $"torch sees {facts.CudaDeviceCount} CUDA device(s)");
    }

    /// <summary>The GPUs <c>CUDA_VISIBLE_DEVICES</c> names; null for none (empty, <c>-1</c>, <c>void</c>, <c>none</c>) or, outside a container, unset ("any").</summary>
    private static string? HeldGpus(string? visible)
    {
        if (visible is null)
        {
            return "(all)";
        }
        var trimmed = visible.Trim();
        return trimmed.Length == 0 || trimmed is "-1" or "void" or "none" or "NoDevFiles" ? null : trimmed;
    }

    /// <summary>Why CUDA cannot be used, in the order a node's set-up fails; null when nothing is known to be wrong.</summary>
    private static string? Problem(DeviceFacts facts)
    {
        if (facts.SimulatedGpus)
        {
            return "the runner's GPUs are simulated (GpuRunner:SimulatedGpus): no device or driver stands behind them";
        }
        if (facts.DriverProblem is { } driver)
        {
            return $"there is no NVIDIA driver: {driver}";
        }
        if (facts.NodeLibtorchVersion is { } version && !SameMinor(version, facts.ExpectedLibtorchVersion))
        {
            return $"of a version mismatch: this TorchSharp needs libtorch {MajorMinor(facts.ExpectedLibtorchVersion)}.x and the node's CUDA " +
                $"libtorch{(facts.NodeLibtorch is { } at ? $" at {at}" : "")} is {version}";
        }
        if (facts.CudaLibtorchProblem is { } cuda)
        {
            return facts.NodeLibtorch is null
                ? $"there is no CUDA libtorch: the node offers none (GpuRunner:CudaLibtorchDirectory) and the app's own does not load ({cuda})"
                : $"the node's CUDA libtorch at {facts.NodeLibtorch} does not load ({cuda})";
        }
        if (facts.CudaAvailable == false)
        {
            return "CUDA libtorch loaded and torch sees no CUDA device (a driver older than libtorch's CUDA, or device files not visible)";
        }
        return null;
    }

    private static bool SameMinor(string version, string expected) =>
        string.Equals(MajorMinor(version), MajorMinor(expected), StringComparison.Ordinal);

    /// <summary><c>2.10</c> of <c>2.10.0+cu128</c> or <c>2.10.0.0</c>.</summary>
    internal static string MajorMinor(string version)
    {
        var parts = version.Split('+')[0].Split('.');
        return parts.Length >= 2 ? $"{parts[0]}.{parts[1]}" : parts[0];
    }
}
