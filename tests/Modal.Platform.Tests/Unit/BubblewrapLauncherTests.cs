using Modal.Container.Protocol;
using Modal.GpuRunner.Containers;

namespace Modal.Platform.Tests.Unit;

public sealed class BubblewrapLauncherTests
{
    private static readonly HashSet<string> Host =
        ["/usr", "/bin", "/lib", "/lib64", "/etc", "/etc/shadow", "/dev/nvidia0", "/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm",
            "/proc/kcore", "/proc/keys", "/proc/acpi", "/proc/sys", "/proc/sysrq-trigger", "/sys/firmware", "/sys/fs/cgroup"];

    private static readonly SandboxSettings Sandbox =
        new(new ContainerUser(61000, 61001), "/run/modal-runner/seccomp.bpf", 64L << 20, "/usr/bin/setpriv", "/usr/bin/nsenter");

    private static readonly BubblewrapLauncher Confining = new("/usr/bin/bwrap", "/opt/dotnet/dotnet", new Dictionary<string, string>(),
        Host.Contains, Sandbox);

    private static readonly BubblewrapLauncher Launcher = new("/usr/bin/bwrap", "/opt/dotnet/dotnet",
        new Dictionary<string, string> { ["/srv/datasets"] = "/datasets" }, Host.Contains);

    private static readonly ContainerSpec Spec = new("c1", "/var/cache/modal/bundles/abc", "App.dll", new Dictionary<string, string>())
    {
        Binds = [new ContainerBind("/var/cache/modal/mounts/c1/1", "/data/models"), new ContainerBind("/var/cache/modal/mounts/c1/0", "/data")],
        GpuIndices = [1],
    };

    [Fact]
    public void Command_Container_SystemReadOnlyBundleAtAppVolumesAtTheirPathsOnlyItsGpu()
    {
        var command = Launcher.Command(Spec, "/run/modal-runner/c1", new Dictionary<string, string> { ["PATH"] = "/usr/bin" });
        var binds = Binds(command.Arguments);

        Assert.Equal("/usr/bin/bwrap", command.FileName);
        Assert.Contains(("--ro-bind", "/usr", "/usr"), binds);
        Assert.Contains(("--ro-bind", "/etc", "/etc"), binds);
        Assert.Contains(("--ro-bind", "/dev/null", "/etc/shadow"), binds);
        Assert.Contains(("--ro-bind", "/opt/dotnet", "/opt/dotnet"), binds);
        Assert.Contains(("--ro-bind", "/var/cache/modal/bundles/abc", "/app"), binds);
        Assert.Contains(("--bind", "/run/modal-runner/c1", "/run/modal"), binds);
        Assert.Contains(("--bind", "/srv/datasets", "/datasets"), binds);
        // A parent mount before the one inside it, or the inner one would be hidden.
        var data = binds.IndexOf(("--bind", "/var/cache/modal/mounts/c1/0", "/data"));
        var models = binds.IndexOf(("--bind", "/var/cache/modal/mounts/c1/1", "/data/models"));
        Assert.InRange(data, 0, models - 1);
        Assert.Equal([("--dev-bind", "/dev/nvidia1", "/dev/nvidia1"), ("--dev-bind", "/dev/nvidiactl", "/dev/nvidiactl"),
            ("--dev-bind", "/dev/nvidia-uvm", "/dev/nvidia-uvm")], binds.Where(b => b.Option == "--dev-bind"));
        // Nothing else of the runner's cache is mounted.
        Assert.DoesNotContain(binds, b => b.Source == "/var/cache/modal" || b.Source == "/var/cache/modal/mounts/c1/2");
        Assert.Equal(["--", "/opt/dotnet/dotnet", "/app/App.dll"], command.Arguments.TakeLast(3));
        Assert.Equal("/run/modal/fn.sock", command.Environment[ContainerProtocol.SocketVariable]);
        Assert.Equal("bubblewrap", command.Environment[ContainerCommand.IsolationVariable]);
        Assert.Equal("/tmp", command.Environment["HOME"]);
    }

    [Fact]
    public void Command_NamespacesAndNetwork_OwnPidIpcUtsAlwaysNetworkOnlyWhenBlocked()
    {
        var shared = Launcher.Command(Spec, "/run/x", new Dictionary<string, string>()).Arguments;
        var blocked = Launcher.Command(Spec with { BlockNetwork = true }, "/run/x", new Dictionary<string, string>()).Arguments;

        Assert.Subset(shared.ToHashSet(), new HashSet<string> { "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent" });
        Assert.DoesNotContain("--unshare-net", shared);
        Assert.Contains("--unshare-net", blocked);
    }

    [Fact]
    public void Command_PlatformSocket_ItsFolderReadOnlyAtRunModalPlatformAndNamedInTheEnvironment()
    {
        var spec = Spec with { PlatformSocketFolder = "/run/modal-runner/platform-1234", BlockNetwork = true };

        var command = Launcher.Command(spec, "/run/x", new Dictionary<string, string>());
        var without = Launcher.Command(Spec, "/run/x", new Dictionary<string, string>());

        Assert.Contains(("--ro-bind", "/run/modal-runner/platform-1234", "/run/modal-platform"), Binds(command.Arguments));
        Assert.Equal("/run/modal-platform/platform.sock", command.Environment[ContainerProtocol.PlatformSocketVariable]);
        Assert.DoesNotContain(Binds(without.Arguments), b => b.Target == "/run/modal-platform");
        Assert.False(without.Environment.ContainsKey(ContainerProtocol.PlatformSocketVariable));
    }

    [Fact]
    public void Command_WithItsNetworkAndUser_RootEntersTheNamespaceDropsToTheUidThenBubblewrapDropsEveryCapability()
    {
        var command = Confining.Command(Spec with { NetworkNamespace = "/run/netns/modal-abc-1" }, "/run/x", new Dictionary<string, string>());
        var arguments = command.Arguments;

        Assert.Equal("/usr/bin/nsenter", command.FileName);
        Assert.Equal(["--net=/run/netns/modal-abc-1", "/usr/bin/setpriv", "--reuid=61000", "--regid=61001", "--clear-groups", "/usr/bin/bwrap"],
            arguments.Take(6));
        Assert.DoesNotContain("--unshare-net", arguments);
        Assert.Equal(["ALL"], Following(arguments, "--cap-drop"));
        Assert.Equal(["3"], Following(arguments, "--seccomp"));
        Assert.Equal("/run/modal-runner/seccomp.bpf", command.SeccompFilterFile);
        var tmp = IndexOfSequence(arguments, ["--size", (64L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), "--tmpfs", "/tmp"]);
        Assert.True(tmp > 0, "a /tmp of the configured size");
        // The seccomp profile and the capabilities apply to the program: both come before the "--" that starts it.
        Assert.True(arguments.ToList().IndexOf("--seccomp") < arguments.ToList().IndexOf("--"));
    }

    [Fact]
    public void Command_BlockNetwork_OnlyLoopbackEvenWhenANamespaceWasMade()
    {
        var command = Confining.Command(Spec with { BlockNetwork = true, NetworkNamespace = "/run/netns/modal-abc-2" }, "/run/x",
            new Dictionary<string, string>());

        Assert.Equal("/usr/bin/setpriv", command.FileName);
        Assert.DoesNotContain(command.Arguments, argument => argument.StartsWith("--net=", StringComparison.Ordinal));
        Assert.Contains("--unshare-net", command.Arguments);
    }

    [Fact]
    public void Command_ProcAndSys_MaskedAndReadOnlyAsARuntimePresentsThem()
    {
        var arguments = Confining.Command(Spec, "/run/x", new Dictionary<string, string>()).Arguments;
        var binds = Binds(arguments);

        Assert.Contains(("--ro-bind", "/dev/null", "/proc/kcore"), binds);
        Assert.Contains(("--ro-bind", "/dev/null", "/proc/keys"), binds);
        Assert.DoesNotContain(binds, bind => bind.Target == "/proc/timer_list"); // Not on this host: nothing to mask.
        Assert.Contains(("--ro-bind", "/proc/sys", "/proc/sys"), binds);
        Assert.Contains(("--ro-bind", "/proc/sysrq-trigger", "/proc/sysrq-trigger"), binds);
        Assert.Contains(("--ro-bind", "/sys", "/sys"), binds);
        Assert.True(IndexOfSequence(arguments, ["--perms", "0555", "--tmpfs", "/sys/firmware"]) > 0, "the firmware tables masked");
        Assert.True(IndexOfSequence(arguments, ["--perms", "0555", "--tmpfs", "/proc/acpi"]) > 0, "/proc/acpi masked");
        // Masks go over the sandbox's own /proc and the read-only /sys, so after them.
        Assert.True(arguments.ToList().IndexOf("/proc/kcore") > arguments.ToList().IndexOf("--proc"));
    }

    [Fact]
    public void ToStartInfo_WithSeccompProfile_TheShellOpensItForBubblewrap()
    {
        var command = Confining.Command(Spec, "/run/x", new Dictionary<string, string>());

        var start = command.ToStartInfo(["/sys/fs/cgroup/pids/modal/c1/cgroup.procs"]);

        Assert.Equal("/bin/sh", start.FileName);
        Assert.Contains("exec 3<", start.ArgumentList[1], StringComparison.Ordinal);
        Assert.Equal(["/run/modal-runner/seccomp.bpf", "/sys/fs/cgroup/pids/modal/c1/cgroup.procs", "--", "/usr/bin/setpriv"],
            start.ArgumentList.Skip(3).Take(4));
    }

    [Fact]
    public void ToStartInfo_WithCgroups_JoinsThemBeforeExecutingTheCommand()
    {
        var command = new ProcessLauncher("/usr/bin/dotnet").Command(Spec, "/run/x", new Dictionary<string, string> { ["A"] = "1" });

        var plain = command.ToStartInfo([]);
        var limited = command.ToStartInfo(["/sys/fs/cgroup/memory/modal/c1/cgroup.procs", "/sys/fs/cgroup/pids/modal/c1/cgroup.procs"]);

        Assert.Equal("/usr/bin/dotnet", plain.FileName);
        Assert.Equal(["/var/cache/modal/bundles/abc/App.dll"], plain.ArgumentList);
        Assert.Equal("/bin/sh", limited.FileName);
        Assert.Equal(["-", "/sys/fs/cgroup/memory/modal/c1/cgroup.procs", "/sys/fs/cgroup/pids/modal/c1/cgroup.procs", "--", "/usr/bin/dotnet",
            "/var/cache/modal/bundles/abc/App.dll"], limited.ArgumentList.Skip(3));
        Assert.Equal("none", limited.Environment[ContainerCommand.IsolationVariable]);
        Assert.Equal("1", limited.Environment["A"]);
        Assert.False(limited.Environment.ContainsKey("ConnectionStrings__rabbitmq"));
    }

    private static IEnumerable<string> Following(IReadOnlyList<string> arguments, string option) =>
        arguments.Select((argument, index) => (argument, index)).Where(a => a.argument == option).Select(a => arguments[a.index + 1]);

    private static int IndexOfSequence(IReadOnlyList<string> arguments, string[] sequence) =>
        Enumerable.Range(0, arguments.Count - sequence.Length + 1).FirstOrDefault(i => arguments.Skip(i).Take(sequence.Length).SequenceEqual(sequence), -1);

    [Fact]
    public void Command_WithImage_TheImageIsTheReadOnlyRootWithTheRuntimeBundleAndVolumesBoundIn()
    {
        var image = Directory.CreateTempSubdirectory("modal-image-root-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(image, "etc"));
            File.WriteAllText(Path.Combine(image, "etc", "shadow"), "");
            var spec = Spec with { ImageRoot = image, Workdir = "/work" };

            var command = Launcher.Command(spec, "/run/modal-runner/c1", new Dictionary<string, string>());
            var binds = Binds(command.Arguments);

            Assert.Equal(("--ro-bind", image, "/"), binds[0]);
            // The node's system folders stay out; its .NET runtime, the bundle, Volumes and the mask of /etc/shadow are in.
            Assert.DoesNotContain(binds, b => b.Source is "/usr" or "/etc" or "/bin");
            Assert.Contains(("--ro-bind", "/opt/dotnet", "/opt/dotnet"), binds);
            Assert.Contains(("--ro-bind", "/dev/null", "/etc/shadow"), binds);
            Assert.Contains(("--ro-bind", "/var/cache/modal/bundles/abc", "/app"), binds);
            Assert.Contains(("--bind", "/var/cache/modal/mounts/c1/0", "/data"), binds);
            Assert.Equal("/work", command.Arguments[command.Arguments.ToList().IndexOf("--chdir") + 1]);
            var (folders, _) = Launcher.ImageMountPoints(spec);
            Assert.Superset(new HashSet<string> { "/app", "/run/modal", "/opt/dotnet", "/data", "/data/models", "/datasets", "/work" }, folders.ToHashSet());
        }
        finally
        {
            Directory.Delete(image, recursive: true);
        }
    }

    private static List<(string Option, string Source, string Target)> Binds(IReadOnlyList<string> arguments)
    {
        var binds = new List<(string, string, string)>();
        for (var i = 0; i < arguments.Count - 2; i++)
        {
            if (arguments[i] is "--bind" or "--ro-bind" or "--dev-bind")
            {
                binds.Add((arguments[i], arguments[i + 1], arguments[i + 2]));
                i += 2;
            }
        }
        return binds;
    }
}
