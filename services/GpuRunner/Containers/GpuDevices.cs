namespace Modal.GpuRunner.Containers;

/// <summary>
/// The NVIDIA device files a container holding some GPUs may see: one <c>/dev/nvidiaN</c> per allocated GPU and the
/// driver's shared control devices. <c>CUDA_VISIBLE_DEVICES</c> only asks CUDA to hide the others; without the device
/// files a process cannot open another container's GPU at all.
/// </summary>
public static class GpuDevices
{
    /// <summary>Devices every CUDA process needs besides its GPUs, bound only where the host has them.</summary>
    public static readonly IReadOnlyList<string> SharedDevices =
        ["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"];

    /// <summary>
    /// The device files for the GPUs <paramref name="gpuIndices"/> (the runner's indices, which are the driver's minor
    /// numbers), plus the shared devices present. None at all for a container without GPUs.
    /// </summary>
    /// <param name="gpuIndices">The container's allocated GPUs.</param>
    /// <param name="exists">Whether a device file exists on this host (<see cref="File.Exists"/> in production).</param>
    public static IReadOnlyList<string> For(IReadOnlyList<int> gpuIndices, Func<string, bool> exists)
    {
        ArgumentNullException.ThrowIfNull(gpuIndices);
        ArgumentNullException.ThrowIfNull(exists);
        if (gpuIndices.Count == 0)
        {
            return [];
        }
        return gpuIndices.Distinct().Order()
            .Select(index => FormattableString.Invariant($"/dev/nvidia{index}"))
            .Concat(SharedDevices)
            .Where(exists)
            .ToList();
    }
}
