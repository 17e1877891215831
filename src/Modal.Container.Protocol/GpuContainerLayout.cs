namespace Modal.Container.Protocol;

/// <summary>
/// What a runner puts into a container that holds GPUs, where the container sees it, and the variables that say so
/// (the way NVIDIA's container toolkit injects a node's driver into its containers). Shared by the runner, which binds
/// them, and by <c>Modal.Sdk.Torch</c>, which reads them to choose a device and to say why CUDA cannot be used.
/// </summary>
public static class GpuContainerLayout
{
    /// <summary>Where the node's NVIDIA driver libraries (<c>libcuda.so.1</c>, <c>libnvidia-ml.so.1</c>, …) appear, read-only.</summary>
    public const string DriverLibraryPath = "/run/modal-gpu/driver/lib";

    /// <summary>Where the node's driver tools (<c>nvidia-smi</c>) appear, read-only.</summary>
    public const string DriverToolPath = "/run/modal-gpu/driver/bin";

    /// <summary>Where the node's CUDA libtorch (its <c>lib</c> folder) appears, read-only, when the node has one.</summary>
    public const string LibtorchPath = "/run/modal-gpu/libtorch";

    /// <summary>Environment variable with <see cref="LibtorchPath"/>, set only when the runner bound a CUDA libtorch.</summary>
    public const string LibtorchVariable = "MODAL_CUDA_LIBTORCH";

    /// <summary>Environment variable with that libtorch's version as the node read it (<c>2.10.0+cu128</c>), when known.</summary>
    public const string LibtorchVersionVariable = "MODAL_CUDA_LIBTORCH_VERSION";

    /// <summary>
    /// Environment variable listing what the runner found of the node's driver (file names, comma-separated); empty when
    /// it found none, so a container can say "no driver on this node" rather than guess.
    /// </summary>
    public const string DriverFilesVariable = "MODAL_GPU_DRIVER_FILES";
}
