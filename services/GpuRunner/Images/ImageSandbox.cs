using System.Diagnostics;
using System.Globalization;
using Modal.GpuRunner.Containers;

namespace Modal.GpuRunner.Images;

/// <summary>
/// Runs image build work inside the same boundary as a container, with no capability on the node: as the build user
/// (<see cref="GpuRunnerOptions.ImageBuildUser"/>, a non-root uid), whose root inside a user namespace is mapped to its
/// unprivileged subordinate ids (<c>/etc/subuid</c>), so files the build makes are owned by those ids on the node and
/// never by the node's root; in the network namespace given (egress without the node's addresses, as containers have).
/// <c>mmdebstrap --mode=unshare</c> makes its own user namespace; everything else runs under <c>mmdebstrap
/// --unshare-helper</c> (the same mapping) and, for steps, bubblewrap with the layer's root as <c>/</c>.
/// </summary>
public sealed class ImageSandbox
{
    private readonly GpuRunnerOptions _options;

    public ImageSandbox(GpuRunnerOptions options)
    {
        _options = options;
        (Uid, Gid) = LookUp(options.ImageBuildUser);
        SubordinateBase = ReadSubordinateBase("/etc/subuid", options.ImageBuildUser);
        SubordinateGroupBase = ReadSubordinateBase("/etc/subgid", options.ImageBuildUser);
    }

    /// <summary>The build user's host uid and gid; null where the user does not exist.</summary>
    public int? Uid { get; }

    public int? Gid { get; }

    /// <summary>The first subordinate uid (root inside the build's user namespace); null where none is set.</summary>
    public long? SubordinateBase { get; }

    public long? SubordinateGroupBase { get; }

    /// <summary>Why images cannot be built on this node; null when they can.</summary>
    public string? Unavailable =>
        !OperatingSystem.IsLinux() ? "images are built on Linux only"
        : Environment.UserName != "root" ? "the runner is not root (it hands build folders to the build user's subordinate ids)"
        : Uid is null ? $"no user '{_options.ImageBuildUser}' (scripts/install-infra.sh makes it)"
        : SubordinateBase is null || SubordinateGroupBase is null ? $"no /etc/subuid and /etc/subgid range for '{_options.ImageBuildUser}'"
        : Executables.Find(_options.MmdebstrapPath) is null ? $"'{_options.MmdebstrapPath}' is not installed"
        : Executables.Find(_options.BubblewrapPath) is null ? $"'{_options.BubblewrapPath}' is not installed"
        : null;

    /// <summary>Gives a folder to root inside the build's user namespace (its subordinate base ids).</summary>
    public void GiveToBuildRoot(string path)
    {
        Directory.CreateDirectory(path);
        ImageSandbox.SetMode(path, 0x1ED); // 0755
        RunChown(path, SubordinateBase!.Value, SubordinateGroupBase!.Value);
    }

    /// <summary>Gives a folder to the build user itself (mmdebstrap's temporary files).</summary>
    public void GiveToBuildUser(string path)
    {
        Directory.CreateDirectory(path);
        RunChown(path, Uid!.Value, Gid!.Value);
    }

    /// <summary>Runs <c>mmdebstrap --mode=unshare</c> as the build user.</summary>
    public Task<int> DebootstrapAsync(
        IReadOnlyList<string> arguments, string tempDirectory, string? networkNamespace, Action<string> onLine, CancellationToken cancellationToken) =>
        RunAsync([_options.MmdebstrapPath, "--mode=unshare", .. arguments], tempDirectory, networkNamespace, onLine, cancellationToken);

    /// <summary>Runs a program as root inside the build user's namespace (root there, subordinate ids on the node).</summary>
    public Task<int> RunAsRootAsync(
        IReadOnlyList<string> command, string tempDirectory, string? networkNamespace, Action<string> onLine, CancellationToken cancellationToken) =>
        RunAsync([_options.MmdebstrapPath, "--unshare-helper", .. command], tempDirectory, networkNamespace, onLine, cancellationToken);

    /// <summary>
    /// A shell command run with <paramref name="root"/> as <c>/</c> (bubblewrap: its own pid, ipc and uts namespaces, a
    /// fresh <c>/proc</c>, <c>/dev</c> and <c>/tmp</c>, the node's resolver), as root inside the build's namespace.
    /// </summary>
    public IReadOnlyList<string> InRoot(string root, string shellCommand, IReadOnlyList<string> environment, string? workdir)
    {
        var args = new List<string>
        {
            _options.BubblewrapPath, "--bind", root, "/", "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp",
            "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "modal-build", "--die-with-parent", "--clearenv",
            "--setenv", "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--setenv", "HOME", "/root", "--setenv", "DEBIAN_FRONTEND", "noninteractive", "--setenv", "LC_ALL", "C.UTF-8",
        };
        if (File.Exists("/etc/resolv.conf") && File.Exists(Path.Combine(root, "etc/resolv.conf")))
        {
            args.AddRange(["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"]);
        }
        foreach (var variable in environment)
        {
            var equals = variable.IndexOf('=', StringComparison.Ordinal);
            args.AddRange(["--setenv", variable[..equals], variable[(equals + 1)..]]);
        }
        args.AddRange(["--chdir", workdir ?? "/", "--", "/bin/sh", "-c", shellCommand]);
        return args;
    }

    private async Task<int> RunAsync(
        IReadOnlyList<string> command, string tempDirectory, string? networkNamespace, Action<string> onLine, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var prefix = new List<string>();
        if (networkNamespace is not null)
        {
            prefix.AddRange(["nsenter", $"--net={networkNamespace}"]);
        }
        prefix.AddRange(["setpriv", $"--reuid={Uid}", $"--regid={Gid}", "--clear-groups", "--",
            "env", "-i", $"HOME={tempDirectory}", $"TMPDIR={tempDirectory}", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LC_ALL=C.UTF-8"]);
        start.FileName = prefix[0];
        foreach (var argument in prefix.Skip(1).Concat(command))
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command[0]}.");
        var output = PumpAsync(process.StandardOutput, onLine);
        var error = PumpAsync(process.StandardError, onLine);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        await Task.WhenAll(output, error);
        return process.ExitCode;
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> onLine)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            onLine(line);
        }
    }

    /// <summary>
    /// The command that unpacks a root file system tar into <paramref name="root"/> (run as the build's root). Device nodes
    /// cannot be made in a user namespace, and bubblewrap gives every sandbox a /dev of its own, so /dev stays empty.
    /// </summary>
    public static IReadOnlyList<string> Unpack(string root, string tar) => ["tar", "-C", root, "--exclude=./dev/*", "-xf", tar];

    /// <summary>Sets a path's permission bits (images are built on Linux only).</summary>
    internal static void SetMode(string path, int mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)mode);
        }
    }

    private static void RunChown(string path, long uid, long gid)
    {
        using var chown = Process.Start("chown", [string.Create(CultureInfo.InvariantCulture, $"{uid}:{gid}"), path])!;
        chown.WaitForExit();
        if (chown.ExitCode != 0)
        {
            throw new InvalidOperationException($"chown {uid}:{gid} {path} failed ({chown.ExitCode}).");
        }
    }

    private static (int? Uid, int? Gid) LookUp(string user)
    {
        if (!File.Exists("/etc/passwd"))
        {
            return (null, null);
        }
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields.Length > 3 && fields[0] == user)
            {
                return (int.Parse(fields[2], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture));
            }
        }
        return (null, null);
    }

    private static long? ReadSubordinateBase(string file, string user)
    {
        if (!File.Exists(file))
        {
            return null;
        }
        foreach (var line in File.ReadLines(file))
        {
            var fields = line.Split(':');
            if (fields.Length == 3 && fields[0] == user && long.TryParse(fields[1], CultureInfo.InvariantCulture, out var first)
                && long.TryParse(fields[2], CultureInfo.InvariantCulture, out var count) && count >= 65536)
            {
                return first;
            }
        }
        return null;
    }
}
