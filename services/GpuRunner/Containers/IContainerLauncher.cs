using System.Diagnostics;
using System.Collections.Concurrent;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// Turns a container's spec into the command that starts it: a plain child process, or one inside its own namespaces.
/// Pure (no process is started here), so what a container would see is testable without starting one.
/// </summary>
public interface IContainerLauncher
{
    /// <summary>The backend's name as <c>GpuRunner:ContainerBackend</c> and <c>MODAL_ISOLATION</c> name it.</summary>
    string Backend { get; }

    /// <summary>Whether a container of this backend is isolated from the node and from other containers.</summary>
    bool Isolates { get; }

    /// <summary>
    /// The command for <paramref name="spec"/>, whose function server listens on <c>fn.sock</c> in
    /// <paramref name="runtimeDirectory"/> (as the runner sees it). <paramref name="environment"/> is the container's
    /// built environment; the launcher adds where the socket is as the container sees it.
    /// </summary>
    ContainerCommand Command(ContainerSpec spec, string runtimeDirectory, IReadOnlyDictionary<string, string> environment);

    /// <summary>
    /// Makes a file or folder the runner made for one container (its runtime folder, its Volume copies, a socket bound
    /// into it) writable by the container's uid; nothing to do where the container runs as the runner's own.
    /// </summary>
    void HandOver(string path)
    {
    }
}

/// <summary>A program, its arguments, working directory and complete environment.</summary>
public sealed record ContainerCommand(
    string FileName, IReadOnlyList<string> Arguments, string WorkingDirectory, IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>
    /// A seccomp BPF program the container's first process opens on descriptor
    /// <see cref="BubblewrapLauncher.SeccompDescriptor"/> before executing the command (as root: the file need not be
    /// readable by the container); null: none.
    /// </summary>
    public string? SeccompFilterFile { get; init; }

    /// <summary>Says which isolation a container has (<c>bubblewrap</c> or <c>none</c>), so code inside can tell.</summary>
    public const string IsolationVariable = "MODAL_ISOLATION";

    /// <summary>
    /// The start info, with stdio redirected and nothing inherited from the runner's environment. With
    /// <paramref name="cgroupProcsFiles"/> a shell first moves itself into those cgroups and then execs the command, so
    /// every process of the container is limited from its first instruction on (children inherit the cgroup); it also
    /// opens <see cref="SeccompFilterFile"/> for bubblewrap. Both happen as the runner's user, before the command drops it.
    /// </summary>
    public ProcessStartInfo ToStartInfo(IReadOnlyList<string> cgroupProcsFiles)
    {
        ArgumentNullException.ThrowIfNull(cgroupProcsFiles);
        var start = new ProcessStartInfo
        {
            WorkingDirectory = WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (cgroupProcsFiles.Count == 0 && SeccompFilterFile is null)
        {
            start.FileName = FileName;
        }
        else
        {
            start.FileName = "/bin/sh";
            start.ArgumentList.Add("-c");
            // Exit 125 names the failure to join, 126 the failure to open the profile, rather than running the container
            // unlimited or unfiltered.
            start.ArgumentList.Add(
                "filter=$1; shift; while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; " +
                $"if [ \"$filter\" != - ]; then exec {BubblewrapLauncher.SeccompDescriptor}<\"$filter\" || exit 126; fi; exec \"$@\"");
            start.ArgumentList.Add("modal-container-prelude");
            start.ArgumentList.Add(SeccompFilterFile ?? "-");
            foreach (var procs in cgroupProcsFiles)
            {
                start.ArgumentList.Add(procs);
            }
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(FileName);
        }
        foreach (var argument in Arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment.Clear();
        foreach (var (name, value) in Environment)
        {
            start.Environment[name] = value;
        }
        return start;
    }
}

/// <summary>
/// Starts container processes from one long-lived thread. bubblewrap's <c>--die-with-parent</c> (PR_SET_PDEATHSIG)
/// fires when the forking <em>thread</em> exits, and the thread pool retires idle threads: a container started from a
/// pool thread would be killed some seconds later for no reason of its own.
/// </summary>
public static class ContainerSpawner
{
    private static readonly BlockingCollection<(ProcessStartInfo Start, TaskCompletionSource<Process> Started)> Requests = [];

    static ContainerSpawner()
    {
        var thread = new Thread(() =>
        {
            foreach (var (start, started) in Requests.GetConsumingEnumerable())
            {
                try
                {
                    started.SetResult(Process.Start(start) ?? throw new InvalidOperationException($"Could not start '{start.FileName}'."));
                }
                catch (Exception e)
                {
                    started.SetException(e);
                }
            }
        })
        { IsBackground = true, Name = "container-spawner" };
        thread.Start();
    }

    /// <summary>Starts <paramref name="start"/> from the spawner thread.</summary>
    public static Task<Process> StartAsync(ProcessStartInfo start)
    {
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((start, started));
        return started.Task;
    }
}

/// <summary>Where the dotnet host is, so a container can run it (an isolated one sees its folder read-only).</summary>
public static class DotnetHost
{
    /// <summary>The dotnet executable with links resolved: <c>DOTNET_ROOT</c>'s, else the first on <c>PATH</c>.</summary>
    public static string Resolve()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root)
        {
            candidates.Add(Path.Combine(root, "dotnet"));
        }
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "dotnet")));
        foreach (var candidate in candidates.Where(File.Exists))
        {
            return File.ResolveLinkTarget(candidate, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(candidate);
        }
        return "dotnet";
    }
}
