using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// The container backend this runner uses (<c>GpuRunner:ContainerBackend</c>) and how containers' limits are enforced.
/// <c>auto</c> tries bubblewrap once at start, as containers will run (the container's uid, no capabilities, the seccomp
/// profile, every namespace) and, where this host does not permit it, falls back to plain processes: loudly, in the
/// health report (degraded, with the reason), in a warning at every container start and in <c>MODAL_ISOLATION=none</c>
/// inside every container. A sandbox that runs but is weaker than it should be (a runner that is not root cannot drop
/// to the container's uid or make network namespaces; no libseccomp) is reported the same way: <see cref="Weakened"/>.
/// </summary>
public sealed partial class ContainerIsolation : IDisposable
{
    public ContainerIsolation(IOptions<GpuRunnerOptions> options, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var settings = options.Value;
        var logger = loggers.CreateLogger<ContainerIsolation>();
        var dotnet = DotnetHost.Resolve();
        Limits = new Cgroups(settings.CgroupRoot, loggers.CreateLogger<Cgroups>());
        if (settings.ContainerBackend == "process")
        {
            Launcher = new ProcessLauncher(dotnet);
            Unisolated = "GpuRunner:ContainerBackend is 'process'";
            LogBackend(logger, Launcher.Backend, Limits.Reason);
            return;
        }

        var weaknesses = new List<string>();
        // Only root can drop to another uid; a runner that is not root runs containers as itself.
        var user = Environment.IsPrivilegedProcess ? new ContainerUser(settings.ContainerUid, settings.ContainerGid) : null;
        if (user is null)
        {
            weaknesses.Add("the runner is not root, so containers run as its own uid");
        }
        string? seccomp = Path.Combine(Path.GetFullPath(settings.RuntimeDirectory), "seccomp.bpf");
        try
        {
            SeccompFilter.Write(seccomp);
        }
        catch (Exception e) when (e is SeccompUnavailableException or IOException or UnauthorizedAccessException)
        {
            weaknesses.Add($"no seccomp profile ({e.Message})");
            seccomp = null;
        }
        Networks = new ContainerNetworks(settings.RunnerId, settings.NetworkUid, settings.SlirpPath, loggers.CreateLogger<ContainerNetworks>(),
            settings.NetworkPoolSize);
        if (Networks.Unavailable is { } noNetworks)
        {
            weaknesses.Add($"containers share the node's network: they cannot have their own here ({noNetworks})");
        }
        var sandbox = new SandboxSettings(user, seccomp, settings.ContainerTmpMiB * 1024L * 1024,
            Executables.Find("setpriv") ?? "setpriv", Networks.Nsenter);
        IContainerLauncher bubblewrap = new BubblewrapLauncher(settings.BubblewrapPath, dotnet, settings.ContainerBinds, Path.Exists, sandbox);
        if (settings.ContainerBackend == "bubblewrap")
        {
            Launcher = bubblewrap;
        }
        else if (ProbeBubblewrap(settings, sandbox, dotnet) is { } problem)
        {
            Launcher = new ProcessLauncher(dotnet);
            Unisolated = $"bubblewrap cannot run here ({problem}); containers run as plain processes";
            FellBack = true;
            LogFellBack(logger, Unisolated);
        }
        else
        {
            Launcher = bubblewrap;
        }
        if (Unisolated is null && weaknesses.Count > 0)
        {
            Weakened = string.Join("; ", weaknesses);
            LogWeakened(logger, Weakened);
        }
        if (Launcher.Isolates)
        {
            Networks.Refill();
        }
        LogBackend(logger, Launcher.Backend, Limits.Reason);
    }

    /// <summary>How containers are started.</summary>
    public IContainerLauncher Launcher { get; }

    /// <summary>How their limits are enforced.</summary>
    public Cgroups Limits { get; }

    /// <summary>Makes containers' network namespaces; null for the <c>process</c> backend.</summary>
    public ContainerNetworks? Networks { get; }

    /// <summary>Why containers are not isolated; null when they are.</summary>
    public string? Unisolated { get; }

    /// <summary>What the isolated containers lack that they should have (reported as degraded); null when nothing.</summary>
    public string? Weakened { get; }

    /// <summary>Whether <c>auto</c> wanted isolation and could not have it.</summary>
    public bool FellBack { get; }

    /// <summary>
    /// Runs a trivial sandbox as containers run (their uid, the seccomp profile, every namespace, no capabilities) after
    /// checking that their uid can reach the runner's folders and dotnet; null when it worked, else what went wrong (bwrap
    /// missing, user namespaces disabled, seccomp of an outer container, a folder only root may enter, …).
    /// </summary>
    private static string? ProbeBubblewrap(GpuRunnerOptions settings, SandboxSettings sandbox, string dotnet)
    {
        if (sandbox.User is not null && !OperatingSystem.IsWindows())
        {
            foreach (var folder in (string[])[settings.CacheDirectory, settings.RuntimeDirectory])
            {
                // The runner's own folders: made searchable (not listable) by others, so the container's uid reaches its
                // bundle and runtime folder by their names.
                var full = Path.GetFullPath(folder);
                Directory.CreateDirectory(full);
                File.SetUnixFileMode(full, File.GetUnixFileMode(full) | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
            }
            foreach (var needed in (string[])[settings.CacheDirectory, settings.RuntimeDirectory, Path.GetDirectoryName(dotnet) ?? "/"])
            {
                if (ContainerUser.Unreachable(needed) is { } why)
                {
                    return $"the container's uid {sandbox.User.Uid} cannot reach {needed}: {why}";
                }
            }
        }
        var sandboxArguments = new List<string>
        {
            "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net",
            "--cap-drop", "ALL", "--die-with-parent",
        };
        if (sandbox.SeccompFilterFile is not null)
        {
            sandboxArguments.AddRange(["--seccomp", BubblewrapLauncher.SeccompDescriptor.ToString(CultureInfo.InvariantCulture)]);
        }
        sandboxArguments.AddRange(["--", "/bin/true"]);
        var prefix = sandbox.User is { } user
            ? new List<string> { sandbox.SetprivPath, Invariant($"--reuid={user.Uid}"), Invariant($"--regid={user.Gid}"), "--clear-groups" }
            : [];
        var command = new ContainerCommand(prefix.Count > 0 ? prefix[0] : settings.BubblewrapPath,
            [.. prefix.Skip(1), .. prefix.Count > 0 ? [settings.BubblewrapPath] : Array.Empty<string>(), .. sandboxArguments], "/",
            new Dictionary<string, string>(StringComparer.Ordinal) { ["PATH"] = "/usr/bin:/bin" })
        {
            SeccompFilterFile = sandbox.SeccompFilterFile,
        };
        var start = command.ToStartInfo([]);
        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return $"'{settings.BubblewrapPath}' did not start";
            }
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return $"'{settings.BubblewrapPath}' did not finish within 10 s";
            }
            return process.ExitCode == 0 ? null : $"'{settings.BubblewrapPath}' exited with {process.ExitCode}: {error.Result.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"'{start.FileName}' not found ({e.Message}); install Debian's bubblewrap and util-linux";
        }
    }

    /// <summary>Removes the network namespaces kept ready for containers.</summary>
    public void Dispose() => Networks?.Dispose();

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CONTAINERS ARE ISOLATED LESS THAN THEY SHOULD BE: {Reason}")]
    private static partial void LogWeakened(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "CONTAINERS ARE NOT ISOLATED: {Reason}")]
    private static partial void LogFellBack(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Container backend: {Backend}; limits: {Limits}")]
    private static partial void LogBackend(ILogger logger, string backend, string limits);
}

/// <summary>
/// Degraded when <c>auto</c> fell back to unisolated containers or the sandbox is weaker than it should be; healthy otherwise, with the description saying how
/// containers are isolated and how their limits are enforced (an RSS watchdog where cgroups are not writable, also
/// logged as a warning at start; a site that chose <c>process</c> knowingly is told so too).
/// </summary>
public sealed class ContainerIsolationHealthCheck(ContainerIsolation isolation) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var limits = isolation.Limits.Reason;
        if (isolation.FellBack)
        {
            return Task.FromResult(HealthCheckResult.Degraded($"Containers are NOT isolated: {isolation.Unisolated}. Limits: {limits}."));
        }
        if (isolation.Weakened is { } weakened)
        {
            return Task.FromResult(HealthCheckResult.Degraded(
                $"Containers are isolated by {isolation.Launcher.Backend} but NOT fully: {weakened}. Limits: {limits}."));
        }
        return Task.FromResult(HealthCheckResult.Healthy(isolation.Unisolated is { } why
            ? $"Containers are not isolated ({why}). Limits: {limits}."
            : $"Containers are isolated by {isolation.Launcher.Backend}. Limits: {limits}."));
    }
}
