namespace Modal.GpuRunner.Containers;

/// <summary>What a container runs: the entry assembly of an app bundle, with its environment.</summary>
/// <param name="ContainerId">Unique id, also the name of its runtime folder.</param>
/// <param name="BundleDirectory">The unpacked bundle (working directory of the process).</param>
/// <param name="EntryAssembly">The app's entry assembly, relative to the bundle (e.g. <c>HelloWorld.dll</c>).</param>
/// <param name="Environment">Extra environment: secrets, the function's env, <c>CUDA_VISIBLE_DEVICES</c>.</param>
public sealed record ContainerSpec(
    string ContainerId, string BundleDirectory, string EntryAssembly, IReadOnlyDictionary<string, string> Environment);

/// <summary>The container exited, or never came up, while inputs were in flight.</summary>
public sealed class ContainerCrashedException(string message) : Exception(message);

/// <summary>The function asks for GPUs this runner does not have free.</summary>
public sealed class NoGpuAvailableException(string message) : Exception(message);
