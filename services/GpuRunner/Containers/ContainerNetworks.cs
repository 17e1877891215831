using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// A network namespace per container with egress to the outside through slirp4netns (user-mode networking: the
/// container's connections become the slirp4netns process's own sockets on the node). slirp4netns runs as a uid of its
/// own (<c>GpuRunner:NetworkUid</c>) with only the capabilities it needs, without the gateway's mapping to the node's
/// loopback (<c>--disable-host-loopback</c>), and an nftables table the runner installs at start refuses that uid the
/// node's own addresses (loopback and every other local one: the platform's servers, PostgreSQL, Redis…) and link-local
/// ones (cloud metadata). Needs root, <c>ip</c>, <c>nft</c>, <c>nsenter</c>, <c>setpriv</c> and slirp4netns; where one is
/// missing, <see cref="Unavailable"/> says why and containers share the node's network (reported as degraded).
/// </summary>
/// <remarks>
/// Making a namespace and starting slirp4netns costs a container start about a tenth of a second on a loaded machine
/// (docs/benchmarks.md), so a few are kept ready (<c>GpuRunner:NetworkPoolSize</c>): a start takes one and a new one is made
/// behind it. Each is used by one container only and removed with it.
/// </remarks>
public sealed partial class ContainerNetworks : IDisposable
{
    /// <summary>Where <c>ip netns</c> keeps named network namespaces.</summary>
    public const string NamespaceFolder = "/run/netns";

    private readonly ILogger<ContainerNetworks> _logger;
    private readonly int _networkUid;
    private readonly string _prefix;
    private readonly string? _ip;
    private readonly string? _slirp;
    private readonly string? _setpriv;
    private readonly int _poolSize;
    private readonly ConcurrentQueue<ContainerNetwork> _ready = new();
    private int _filling;
    private volatile bool _disposed;
    private long _next;

    public ContainerNetworks(string runnerId, int networkUid, string slirpPath, ILogger<ContainerNetworks> logger, int poolSize = 0)
    {
        _poolSize = poolSize;
        ArgumentNullException.ThrowIfNull(runnerId);
        _logger = logger;
        _networkUid = networkUid;
        // Names a runner's namespaces (short: a netns name is a file name), so its start can remove those a killed
        // predecessor left without touching another runner's on the same node.
        _prefix = $"modal-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(runnerId)))[..10]}-";
        _ip = Executables.Find("ip");
        _slirp = Executables.Find(slirpPath);
        _setpriv = Executables.Find("setpriv");
        Nsenter = Executables.Find("nsenter") ?? "nsenter";
        Unavailable = Probe();
        if (Unavailable is null)
        {
            RemoveStale();
        }
    }

    /// <summary>Why containers cannot have networks of their own here; null when they can.</summary>
    public string? Unavailable { get; }

    /// <summary>util-linux's <c>nsenter</c>, with which a container's first process enters its namespace.</summary>
    public string Nsenter { get; }

    /// <summary>
    /// Makes a network namespace for a container and waits until slirp4netns has configured it (an address, a default
    /// route to the gateway 10.0.2.2, DNS at 10.0.2.3). Dispose it when the container has stopped.
    /// </summary>
    public async Task<ContainerNetwork> CreateAsync(CancellationToken cancellationToken)
    {
        if (Unavailable is not null)
        {
            throw new InvalidOperationException($"Containers cannot have networks of their own here: {Unavailable}");
        }
        ContainerNetwork? network = null;
        while (_ready.TryDequeue(out var pooled))
        {
            if (pooled.IsAlive)
            {
                network = pooled;
                break;
            }
            pooled.Dispose();
        }
        return network ?? await MakeAsync(cancellationToken);
    }

    /// <summary>
    /// Starts making namespaces until <see cref="_poolSize"/> are ready (one filler at a time). Call it once a container
    /// has started, not while it starts: slirp4netns starting beside it would slow the start the pool is there to spare.
    /// </summary>
    public void Refill()
    {
        if (_poolSize == 0 || Unavailable is not null || _disposed || Interlocked.CompareExchange(ref _filling, 1, 0) != 0)
        {
            return;
        }
        _ = Task.Run(async () =>
        {
            try
            {
                while (!_disposed && _ready.Count < _poolSize)
                {
                    _ready.Enqueue(await MakeAsync(CancellationToken.None));
                }
            }
            catch (Exception e) when (e is ContainerCrashedException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                LogPoolFailed(_logger, e);
            }
            finally
            {
                Volatile.Write(ref _filling, 0);
            }
            if (_disposed)
            {
                DrainPool();
            }
        });
    }

    /// <summary>Removes the namespaces kept ready (the containers' own go with their containers).</summary>
    public void Dispose()
    {
        _disposed = true;
        // A filler making one now would enqueue it after the drain (and a process that exits next would leave it).
        SpinWait.SpinUntil(() => Volatile.Read(ref _filling) == 0, TimeSpan.FromSeconds(10));
        DrainPool();
    }

    private void DrainPool()
    {
        while (_ready.TryDequeue(out var pooled))
        {
            pooled.Dispose();
        }
    }

    private async Task<ContainerNetwork> MakeAsync(CancellationToken cancellationToken)
    {
        var name = _prefix + Interlocked.Increment(ref _next).ToString(CultureInfo.InvariantCulture);
        await RunAsync(_ip!, ["netns", "add", name], cancellationToken);
        var path = Path.Combine(NamespaceFolder, name);
        try
        {
            var slirp = await StartSlirpAsync(path, cancellationToken);
            return new ContainerNetwork(name, path, slirp, _ip!);
        }
        catch
        {
            await RunAsync(_ip!, ["netns", "delete", name], CancellationToken.None);
            throw;
        }
    }

    private async Task<Process> StartSlirpAsync(string namespacePath, CancellationToken cancellationToken)
    {
        var uid = _networkUid.ToString(CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo(_setpriv!)
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        // Its own uid (the nftables table keys on it) and only the capabilities it needs: to enter the namespace and
        // configure its tap device.
        const string Capabilities = "+sys_admin,+net_admin,+dac_override";
        foreach (var argument in (string[])[$"--reuid={uid}", $"--regid={uid}", "--clear-groups", $"--inh-caps={Capabilities}",
                     $"--ambient-caps={Capabilities}", _slirp!, "--configure", "--mtu=65520", "--disable-host-loopback",
                     // Ready: it writes "1" on stdout. Exit: when the runner dies, the pipe on its stdin closes.
                     "--ready-fd=1", "--exit-fd=0", "--netns-type=path", namespacePath, "tap0"])
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment.Clear();
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {_slirp}.");
        var errors = new StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        using var ready = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ready.CancelAfter(TimeSpan.FromSeconds(10));
        var buffer = new char[1];
        try
        {
            var read = await process.StandardOutput.ReadAsync(buffer, ready.Token);
            if (read == 1 && buffer[0] == '1')
            {
                return process;
            }
        }
        catch (OperationCanceledException)
        {
        }
        Stop(process);
        string said;
        lock (errors)
        {
            said = errors.ToString().Trim();
        }
        throw new ContainerCrashedException($"slirp4netns did not configure the container's network: {said}");
    }

    private string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux";
        }
        if (!Environment.IsPrivilegedProcess)
        {
            return "the runner is not root (it makes network namespaces and starts slirp4netns)";
        }
        var missing = new[] { ("ip", _ip), ("slirp4netns", _slirp), ("setpriv", _setpriv), ("nsenter", Executables.Find("nsenter")), ("nft", Executables.Find("nft")) }
            .Where(tool => tool.Item2 is null).Select(tool => tool.Item1).ToList();
        if (missing.Count > 0)
        {
            return $"{string.Join(", ", missing)} not found; install Debian's iproute2, slirp4netns, util-linux and nftables";
        }
        // One table per slirp uid, replaced whole in one transaction (idempotent: every runner of the node installs the same).
        var table = $"modal_slirp_{_networkUid}";
        var rules = string.Join('\n',
            $"table inet {table} {{}}",
            $"delete table inet {table}",
            $"table inet {table} {{",
            "  chain output {",
            "    type filter hook output priority 0; policy accept;",
            Refuse("fib daddr type local"),
            Refuse("ip daddr 169.254.0.0/16"),
            Refuse("ip6 daddr fe80::/10"),
            "  }",
            "}",
            "");
        var (exit, output) = Run(Executables.Find("nft")!, ["-f", "-"], rules);
        return exit == 0 ? null : $"nft could not install the table {table} ({output.Trim()})";

        // TCP is answered with a reset, so a refused connect fails at once rather than after a timeout.
        string Refuse(string destination) =>
            $"    meta skuid {_networkUid} {destination} meta l4proto tcp reject with tcp reset\n    meta skuid {_networkUid} {destination} reject";
    }

    /// <summary>Removes this runner's namespaces (and their slirp4netns) that a killed predecessor left behind.</summary>
    private void RemoveStale()
    {
        if (!Directory.Exists(NamespaceFolder))
        {
            return;
        }
        foreach (var stale in Directory.EnumerateFiles(NamespaceFolder, _prefix + "*"))
        {
            foreach (var pid in SlirpProcessesOf(stale))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                    // Gone already.
                }
            }
            var (exit, output) = Run(_ip!, ["netns", "delete", Path.GetFileName(stale)], null);
            LogRemovedStale(_logger, stale, exit == 0 ? "removed" : $"not removed ({output.Trim()})");
        }
    }

    /// <summary>The pids of slirp4netns processes attached to <paramref name="namespacePath"/> (by their command line).</summary>
    private static List<int> SlirpProcessesOf(string namespacePath)
    {
        var pids = new List<int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }
            try
            {
                var arguments = File.ReadAllText(Path.Combine(folder, "cmdline")).Split('\0');
                if (arguments.Length > 1 && Path.GetFileName(arguments[0]) == "slirp4netns" && arguments.Contains(namespacePath))
                {
                    pids.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Exited while we looked.
            }
        }
        return pids;
    }

    internal static void Stop(Process process)
    {
        try
        {
            process.Kill();
            process.WaitForExit(TimeSpan.FromSeconds(2));
        }
        catch (InvalidOperationException)
        {
            // Exited already.
        }
    }

    internal static async Task RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new ContainerCrashedException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {(await error).Trim()}");
        }
    }

    private static (int Exit, string Output) Run(string program, IReadOnlyList<string> arguments, string? input)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        process.StandardInput.Write(input ?? "");
        process.StandardInput.Close();
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not make a container network namespace ahead of time")]
    private static partial void LogPoolFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stale container network namespace {Path} of this runner: {Outcome}")]
    private static partial void LogRemovedStale(ILogger logger, string path, string outcome);
}

/// <summary>A container's network namespace and the slirp4netns process giving it egress; disposing removes both.</summary>
public sealed class ContainerNetwork(string name, string path, Process slirp, string ip) : IDisposable
{
    /// <summary>The namespace's name (<c>ip netns</c>).</summary>
    public string Name { get; } = name;

    /// <summary>The namespace's file, which <c>nsenter --net=</c> enters.</summary>
    public string Path { get; } = path;

    /// <summary>Whether its slirp4netns still runs (a namespace kept ready may have lost it).</summary>
    public bool IsAlive => !slirp.HasExited;

    public void Dispose()
    {
        ContainerNetworks.Stop(slirp);
        slirp.Dispose();
        try
        {
            ContainerNetworks.RunAsync(ip, ["netns", "delete", Name], CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (ContainerCrashedException)
        {
            // Removed already; the runner's next start removes what is left.
        }
    }
}

/// <summary>Finds the executables the runner's sandboxes use.</summary>
public static class Executables
{
    /// <summary>
    /// <paramref name="name"/> itself when it is a path, else its first match on <c>PATH</c> and in the sbin folders
    /// (where <c>ip</c> and <c>nft</c> live, which a service's <c>PATH</c> may lack); null when not found.
    /// </summary>
    public static string? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(name) ? name : null;
        }
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
        return folders.Select(folder => System.IO.Path.Combine(folder, name)).FirstOrDefault(File.Exists);
    }
}
