using Modal.Container.Protocol;
using Modal.GpuRunner.Containers;

namespace Modal.Platform.Tests.Unit;

public sealed class BubblewrapLauncherTests
{
    private static readonly HashSet<string> Host =
        ["/usr", "/bin", "/lib", "/lib64", "/etc", "/etc/shadow", "/dev/nvidia0", "/dev/nvidia1", "/dev/nvidiactl", "/dev/nvidia-uvm"];

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
    public void ToStartInfo_WithCgroups_JoinsThemBeforeExecutingTheCommand()
    {
        var command = new ProcessLauncher("/usr/bin/dotnet").Command(Spec, "/run/x", new Dictionary<string, string> { ["A"] = "1" });

        var plain = command.ToStartInfo([]);
        var limited = command.ToStartInfo(["/sys/fs/cgroup/memory/modal/c1/cgroup.procs", "/sys/fs/cgroup/pids/modal/c1/cgroup.procs"]);

        Assert.Equal("/usr/bin/dotnet", plain.FileName);
        Assert.Equal(["/var/cache/modal/bundles/abc/App.dll"], plain.ArgumentList);
        Assert.Equal("/bin/sh", limited.FileName);
        Assert.Equal(["/sys/fs/cgroup/memory/modal/c1/cgroup.procs", "/sys/fs/cgroup/pids/modal/c1/cgroup.procs", "--", "/usr/bin/dotnet",
            "/var/cache/modal/bundles/abc/App.dll"], limited.ArgumentList.Skip(3));
        Assert.Equal("none", limited.Environment[ContainerCommand.IsolationVariable]);
        Assert.Equal("1", limited.Environment["A"]);
        Assert.False(limited.Environment.ContainsKey("ConnectionStrings__rabbitmq"));
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
