using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// The container backend this runner uses (<c>GpuRunner:ContainerBackend</c>) and how containers' limits are enforced.
/// <c>auto</c> tries bubblewrap once at start and, where this host does not permit namespaces, falls back to plain
/// processes: loudly, in the health report (degraded, with the reason), in a warning at every container start and in
/// <c>MODAL_ISOLATION=none</c> inside every container.
/// </summary>
public sealed partial class ContainerIsolation
{
    public ContainerIsolation(IOptions<GpuRunnerOptions> options, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        var settings = options.Value;
        var logger = loggers.CreateLogger<ContainerIsolation>();
        var dotnet = DotnetHost.Resolve();
        Limits = new Cgroups(settings.CgroupRoot, loggers.CreateLogger<Cgroups>());
        IContainerLauncher bubblewrap = new BubblewrapLauncher(settings.BubblewrapPath, dotnet, settings.ContainerBinds, Path.Exists);
        switch (settings.ContainerBackend)
        {
            case "process":
                Launcher = new ProcessLauncher(dotnet);
                Unisolated = "GpuRunner:ContainerBackend is 'process'";
                break;
            case "bubblewrap":
                Launcher = bubblewrap;
                break;
            default:
                if (ProbeBubblewrap(settings.BubblewrapPath) is { } problem)
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
                break;
        }
        LogBackend(logger, Launcher.Backend, Limits.Reason);
    }

    /// <summary>How containers are started.</summary>
    public IContainerLauncher Launcher { get; }

    /// <summary>How their limits are enforced.</summary>
    public Cgroups Limits { get; }

    /// <summary>Why containers are not isolated; null when they are.</summary>
    public string? Unisolated { get; }

    /// <summary>Whether <c>auto</c> wanted isolation and could not have it.</summary>
    public bool FellBack { get; }

    /// <summary>
    /// Runs a trivial sandbox with every namespace a container may use; null when it worked, else what went wrong
    /// (bwrap missing, user namespaces disabled, seccomp of an outer container, …).
    /// </summary>
    private static string? ProbeBubblewrap(string bubblewrapPath)
    {
        var start = new ProcessStartInfo(bubblewrapPath)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var argument in (string[])["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-pid", "--unshare-ipc",
                     "--unshare-uts", "--unshare-net", "--die-with-parent", "--", "/bin/true"])
        {
            start.ArgumentList.Add(argument);
        }
        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return $"'{bubblewrapPath}' did not start";
            }
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return $"'{bubblewrapPath}' did not finish within 10 s";
            }
            return process.ExitCode == 0 ? null : $"'{bubblewrapPath}' exited with {process.ExitCode}: {error.Result.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"'{bubblewrapPath}' not found ({e.Message}); install Debian's bubblewrap";
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "CONTAINERS ARE NOT ISOLATED: {Reason}")]
    private static partial void LogFellBack(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Container backend: {Backend}; limits: {Limits}")]
    private static partial void LogBackend(ILogger logger, string backend, string limits);
}

/// <summary>
/// Degraded when <c>auto</c> fell back to unisolated containers; healthy otherwise, with the description saying how
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
        return Task.FromResult(HealthCheckResult.Healthy(isolation.Unisolated is { } why
            ? $"Containers are not isolated ({why}). Limits: {limits}."
            : $"Containers are isolated by {isolation.Launcher.Backend}. Limits: {limits}."));
    }
}
