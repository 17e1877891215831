namespace Modal.GpuRunner.Containers;

/// <summary>
/// A container as a plain child process: it shares the node's file system, processes and network. Its Volumes are in
/// the runner's folders (announced in <c>MODAL_VOLUME_MOUNTS</c>) and its limits, where cgroups are writable, still apply.
/// </summary>
public sealed class ProcessLauncher(string dotnetPath) : IContainerLauncher
{
    public string Backend => "process";

    public bool Isolates => false;

    public ContainerCommand Command(ContainerSpec spec, string runtimeDirectory, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var variables = new Dictionary<string, string>(environment, StringComparer.Ordinal)
        {
            [Modal.Container.Protocol.ContainerProtocol.SocketVariable] = Path.Combine(runtimeDirectory, "fn.sock"),
            [ContainerCommand.IsolationVariable] = "none",
        };
        if (spec.PlatformSocketFolder is { } platform)
        {
            variables[Modal.Container.Protocol.ContainerProtocol.PlatformSocketVariable] = Path.Combine(platform, Platform.PlatformSocket.FileName);
        }
        if (spec.WebFolder is { } web && spec.WebSocket)
        {
            // No mount namespace to show it at /run/modal-web: the app listens at the host path itself.
            variables[Modal.Container.Protocol.ContainerProtocol.WebSocketVariable] =
                Path.Combine(web, Path.GetFileName(Modal.Container.Protocol.ContainerProtocol.WebSocketPathInContainer));
        }
        return new ContainerCommand(dotnetPath, [Path.Combine(spec.BundleDirectory, spec.EntryAssembly)], spec.BundleDirectory, variables);
    }
}
