using System.Diagnostics;
using System.Globalization;

namespace Modal.GpuRunner.Containers;

/// <summary>How a container's limits are enforced on this node.</summary>
public enum LimitEnforcement
{
    /// <summary>cgroup v1: a folder per controller (memory, cpu, pids).</summary>
    CgroupV1,

    /// <summary>cgroup v2: one unified folder.</summary>
    CgroupV2,

    /// <summary>cgroups are not writable here: a watchdog kills a container whose resident memory passes its limit.</summary>
    RssWatchdog,
}

/// <summary>One container's share of the node's resources, released when it is disposed.</summary>
public interface IContainerResources : IDisposable
{
    /// <summary><c>cgroup.procs</c> files the container's first process joins (empty for the watchdog).</summary>
    IReadOnlyList<string> ProcsFiles { get; }

    /// <summary>Starts watching the container's process (the watchdog's only; cgroups need no help).</summary>
    void Watch(int processId);

    /// <summary>Whether the container was killed for passing its memory limit.</summary>
    bool WasOutOfMemory();
}

/// <summary>
/// Makes a cgroup per container under <c>{root}/…/modal/{containerId}</c> with the function's limits: memory (hard; the
/// kernel kills the container past it, and only it), CPU (a weight proportional to the cores asked for, as Modal's CPU
/// request) and pids. Works with cgroup v1 (a hierarchy per controller) and v2 (<c>cgroup.controllers</c> at the root);
/// where neither is writable, an RSS watchdog stands in for the memory limit and nothing else is limited.
/// </summary>
public sealed partial class Cgroups
{
    private const string Group = "modal";
    private static readonly string[] V1Controllers = ["memory", "cpu", "pids"];
    private readonly string _root;
    private readonly ILogger<Cgroups> _logger;

    public Cgroups(string root, ILogger<Cgroups> logger)
    {
        _root = root;
        _logger = logger;
        (Enforcement, Reason) = Probe();
    }

    /// <summary>How limits are enforced here, found out once at start.</summary>
    public LimitEnforcement Enforcement { get; }

    /// <summary>Why limits are enforced as they are (shown in the runner's health report).</summary>
    public string Reason { get; }

    /// <summary>Makes the container's cgroup with <paramref name="limits"/> (or its watchdog).</summary>
    public IContainerResources Create(string containerId, ContainerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        switch (Enforcement)
        {
            case LimitEnforcement.CgroupV1:
            {
                var folders = V1Controllers.ToDictionary(c => c, c => Path.Combine(_root, c, Group, containerId));
                var cgroup = new Cgroup(folders.Values.ToList(), () => V1OutOfMemory(folders["memory"]));
                try
                {
                    foreach (var folder in folders.Values)
                    {
                        Directory.CreateDirectory(folder);
                    }
                    Write(folders["memory"], "memory.limit_in_bytes", limits.MemoryBytes);
                    // With swap accounting, memory+swap gets the same limit: past it the container is killed, not swapped.
                    if (File.Exists(Path.Combine(folders["memory"], "memory.memsw.limit_in_bytes")))
                    {
                        Write(folders["memory"], "memory.memsw.limit_in_bytes", limits.MemoryBytes);
                    }
                    Write(folders["cpu"], "cpu.shares", Math.Max(2, (long)Math.Round(1024 * limits.Cpu)));
                    Write(folders["pids"], "pids.max", limits.Pids);
                }
                catch
                {
                    cgroup.Dispose();
                    throw;
                }
                return cgroup;
            }
            case LimitEnforcement.CgroupV2:
            {
                var folder = Path.Combine(_root, Group, containerId);
                var cgroup = new Cgroup([folder], () => EventCount(Path.Combine(folder, "memory.events"), "oom_kill") > 0);
                try
                {
                    Directory.CreateDirectory(folder);
                    Write(folder, "memory.max", limits.MemoryBytes);
                    if (File.Exists(Path.Combine(folder, "memory.swap.max")))
                    {
                        Write(folder, "memory.swap.max", 0);
                    }
                    // v2's weight is 1–10000 with 100 as the default share: 100 per core asked for.
                    Write(folder, "cpu.weight", Math.Clamp((long)Math.Round(100 * limits.Cpu), 1, 10_000));
                    Write(folder, "pids.max", limits.Pids);
                }
                catch
                {
                    cgroup.Dispose();
                    throw;
                }
                return cgroup;
            }
            default:
                return new RssWatchdog(limits.MemoryBytes);
        }
    }

    private (LimitEnforcement, string) Probe()
    {
        var probe = $"probe-{Environment.ProcessId}";
        try
        {
            if (File.Exists(Path.Combine(_root, "cgroup.controllers")))
            {
                var available = File.ReadAllText(Path.Combine(_root, "cgroup.controllers")).Split(' ', StringSplitOptions.TrimEntries);
                var missing = V1Controllers.Except(available).ToList();
                if (missing.Count > 0)
                {
                    return Fallback($"cgroup v2 at {_root} lacks the controllers {string.Join(", ", missing)}");
                }
                // Controllers reach a cgroup only when every parent enables them for its children.
                EnableControllers(_root);
                var group = Path.Combine(_root, Group);
                Directory.CreateDirectory(group);
                EnableControllers(group);
                var folder = Path.Combine(group, probe);
                Directory.CreateDirectory(folder);
                var ready = File.Exists(Path.Combine(folder, "memory.max")) && File.Exists(Path.Combine(folder, "pids.max"));
                Directory.Delete(folder);
                return ready
                    ? (LimitEnforcement.CgroupV2, $"cgroup v2 limits (memory, cpu, pids) under {group}")
                    : Fallback($"cgroup v2 at {group} does not give its children the memory and pids controllers");
            }
            foreach (var controller in V1Controllers)
            {
                var folder = Path.Combine(_root, controller, Group, probe);
                Directory.CreateDirectory(folder);
                Directory.Delete(folder);
            }
            return (LimitEnforcement.CgroupV1, $"cgroup v1 limits (memory, cpu, pids) under {_root}/{{memory,cpu,pids}}/{Group}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fallback($"cgroups at {_root} are not writable ({e.Message})");
        }

        (LimitEnforcement, string) Fallback(string why)
        {
            LogNoCgroups(_logger, why);
            return (LimitEnforcement.RssWatchdog, $"{why}: memory limits are enforced by an RSS watchdog; CPU and pids are not limited");
        }
    }

    private static void EnableControllers(string folder)
    {
        var enabled = File.ReadAllText(Path.Combine(folder, "cgroup.subtree_control")).Split(' ', StringSplitOptions.TrimEntries);
        foreach (var controller in V1Controllers.Except(enabled))
        {
            File.WriteAllText(Path.Combine(folder, "cgroup.subtree_control"), $"+{controller}");
        }
    }

    private static void Write(string folder, string file, long value) =>
        File.WriteAllText(Path.Combine(folder, file), value.ToString(CultureInfo.InvariantCulture));

    /// <summary>
    /// v1: <c>oom_kill</c> in <c>memory.oom_control</c> (kernels since 4.13); older kernels only count hitting the limit
    /// (<c>memory.failcnt</c>), which reclaim may absorb, so that counts only together with the container's death.
    /// </summary>
    private static bool V1OutOfMemory(string memory)
    {
        var kills = EventCount(Path.Combine(memory, "memory.oom_control"), "oom_kill");
        if (kills >= 0)
        {
            return kills > 0;
        }
        return File.Exists(Path.Combine(memory, "memory.failcnt"))
            && long.Parse(File.ReadAllText(Path.Combine(memory, "memory.failcnt")).Trim(), CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>The value of <paramref name="key"/> in a flat-keyed cgroup file; -1 when absent.</summary>
    private static long EventCount(string file, string key)
    {
        if (!File.Exists(file))
        {
            return -1;
        }
        foreach (var line in File.ReadLines(file))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] == key)
            {
                return long.Parse(parts[1], CultureInfo.InvariantCulture);
            }
        }
        return -1;
    }

    private sealed class Cgroup(IReadOnlyList<string> folders, Func<bool> outOfMemory) : IContainerResources
    {
        public IReadOnlyList<string> ProcsFiles { get; } = folders.Select(f => Path.Combine(f, "cgroup.procs")).ToList();

        public void Watch(int processId)
        {
        }

        public bool WasOutOfMemory()
        {
            try
            {
                return outOfMemory();
            }
            catch (IOException)
            {
                return false;
            }
        }

        public void Dispose()
        {
            // A cgroup can be removed only once its last process is gone, which lags the container's exit a little.
            for (var attempt = 0; attempt < 50; attempt++)
            {
                var left = folders.Where(Directory.Exists).ToList();
                if (left.Count == 0)
                {
                    return;
                }
                foreach (var folder in left)
                {
                    try
                    {
                        Directory.Delete(folder);
                    }
                    catch (IOException)
                    {
                    }
                }
                Thread.Sleep(20);
            }
        }
    }

    /// <summary>Samples the resident memory of the container's process tree and kills the tree past the limit.</summary>
    private sealed class RssWatchdog(long limitBytes) : IContainerResources
    {
        private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);
        private Timer? _timer;
        private volatile bool _killed;

        public IReadOnlyList<string> ProcsFiles => [];

        public void Watch(int processId) => _timer = new Timer(_ => Check(processId), null, TimeSpan.Zero, Interval);

        public bool WasOutOfMemory() => _killed;

        public void Dispose() => _timer?.Dispose();

        private void Check(int processId)
        {
            if (_killed || ResidentBytes(processId) <= limitBytes)
            {
                return;
            }
            _killed = true;
            try
            {
                using var process = Process.GetProcessById(processId);
                process.Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                // Gone already.
            }
        }

        private static long ResidentBytes(int processId)
        {
            long total = 0;
            var pending = new Stack<int>([processId]);
            while (pending.TryPop(out var pid))
            {
                try
                {
                    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                    {
                        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                        {
                            total += long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                        }
                    }
                    foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
                    {
                        foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                        {
                            pending.Push(int.Parse(child, CultureInfo.InvariantCulture));
                        }
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The process exited while we looked.
                }
            }
            return total;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Container limits are not enforced by cgroups: {Reason}. Memory limits fall back to an RSS watchdog.")]
    private static partial void LogNoCgroups(ILogger logger, string reason);
}
