using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace SecurityProbesExample;

/// <summary>What the container's process may do to the kernel and the node's files.</summary>
internal static class HostProbes
{
    private static readonly string[] HostFolders = ["/usr", "/etc", "/app"];
    private static readonly string[] ToolFolders = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    /// <summary>
    /// Its user as it sees itself and its effective capabilities. Its user on the node cannot be told from inside: bubblewrap
    /// nests two user namespaces, so <c>/proc/self/uid_map</c> names bubblewrap's own namespace, not the node's; the test
    /// reads the node's view of the container's processes instead.
    /// </summary>
    public static ProbeResult[] Identity()
    {
        var status = File.ReadAllLines("/proc/self/status")
            .Select(line => line.Split(':', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0], pair => pair[1].Trim());
        var uid = long.Parse(status["Uid"].Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        var capEff = status["CapEff"];
        return
        [
            uid == 0
                ? ProbeResult.Allowed("root-in-the-container", "/proc/self/status", $"effective uid 0 (uid_map: {ReadOrEmpty("/proc/self/uid_map").Trim()})")
                : ProbeResult.Refused("root-in-the-container", "/proc/self/status", $"effective uid {uid}"),
            Convert.ToUInt64(capEff, 16) == 0
                ? ProbeResult.Refused("capabilities", "/proc/self/status", $"CapEff {capEff}")
                : ProbeResult.Allowed("capabilities", "/proc/self/status", $"CapEff {capEff}: the process holds capabilities"),
        ];
    }

    /// <summary>Adds (and at once removes) an address on lo, mounts a tmpfs, makes a block device node, reads /etc/shadow.</summary>
    public static async Task<ProbeResult[]> PrivilegesAsync()
    {
        var results = new List<ProbeResult>();
        // TEST-NET-2: never routed, and not this node's own network (the test host's eth0 may sit in TEST-NET-1).
        var address = $"198.51.100.{Random.Shared.Next(2, 250)}/32";
        var (added, output) = await RunAsync("ip", "addr", "add", address, "dev", "lo");
        if (added)
        {
            await RunAsync("ip", "addr", "del", address, "dev", "lo");
            results.Add(ProbeResult.Allowed("net-admin", "lo", $"added {address} to lo (removed again)"));
        }
        else
        {
            results.Add(output.Contains("not permitted", StringComparison.OrdinalIgnoreCase) || output.Contains("denied", StringComparison.OrdinalIgnoreCase)
                ? ProbeResult.Refused("net-admin", "lo", output.Trim())
                : ProbeResult.Error("net-admin", "lo", output.Trim()));
        }

        var folder = Directory.CreateTempSubdirectory("probe-mount-").FullName;
        if (Libc.mount("probe", folder, "tmpfs", 0, 0) == 0)
        {
            results.Add(ProbeResult.Allowed("mount", folder, "mounted a tmpfs (device files allowed)"));
            results.Add(MakeBlockDevice(Path.Combine(folder, "loop0")));
            Libc.umount(folder);
        }
        else
        {
            results.Add(Syscall("mount", folder, "mount -t tmpfs"));
            results.Add(MakeBlockDevice(Path.Combine(folder, "loop0")));
        }

        try
        {
            var shadow = File.ReadAllText("/etc/shadow");
            results.Add(shadow.Length == 0
                ? ProbeResult.Refused("read-shadow", "/etc/shadow", "empty (masked)")
                : ProbeResult.Allowed("read-shadow", "/etc/shadow", $"read {shadow.Split('\n').Length} lines"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            results.Add(ProbeResult.Refused("read-shadow", "/etc/shadow", e.Message));
        }
        return [.. results];
    }

    /// <summary>Writes <paramref name="marker"/> into /usr, /etc and the bundle at /app: plainly, then after remounting the folder read-write.</summary>
    public static ProbeResult[] WriteHostFiles(string marker) => [.. HostFolders.Select(folder => WriteHostFile(folder, marker))];


    private static ProbeResult WriteHostFile(string folder, string marker)
    {
        var path = Path.Combine(folder, marker);
        if (TryWrite(path, out var refusal))
        {
            return ProbeResult.Allowed("write-host-file", path, "written");
        }
        if (Libc.mount(null, folder, null, Libc.MsRemount | Libc.MsBind, 0) != 0)
        {
            return ProbeResult.Refused("write-host-file", path, $"{refusal}; remount read-write: {Libc.LastError()}");
        }
        return TryWrite(path, out var again)
            ? ProbeResult.Allowed("write-host-file", path, "written after remounting the folder read-write")
            : ProbeResult.Refused("write-host-file", path, $"{refusal}; remounted read-write, still: {again}");
    }

    private static bool TryWrite(string path, out string refusal)
    {
        try
        {
            File.WriteAllText(path, "written from inside a container");
            refusal = "";
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            refusal = e.Message;
            return false;
        }
    }

    private static ProbeResult MakeBlockDevice(string path) =>
        // 7:0 is /dev/loop0: a device node of it would give the container the node's disk images.
        Libc.mknod(path, Libc.SIfBlk | 0x180, (7UL << 8) | 0) == 0
            ? ProbeResult.Allowed("mknod", path, "created block device 7:0")
            : Syscall("mknod", path, "mknod b 7 0");

    private static ProbeResult Syscall(string name, string target, string what) =>
        Libc.LastErrorIsRefusal()
            ? ProbeResult.Refused(name, target, $"{what}: {Libc.LastError()}")
            : ProbeResult.Error(name, target, $"{what}: {Libc.LastError()}");

    private static async Task<(bool Succeeded, string Output)> RunAsync(string program, params string[] arguments)
    {
        var path = ToolFolders.Select(folder => Path.Combine(folder, program)).FirstOrDefault(File.Exists);
        if (path is null)
        {
            return (false, $"{program} is not installed here");
        }
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        output.Append(await process.StandardOutput.ReadToEndAsync());
        output.Append(await process.StandardError.ReadToEndAsync());
        await process.WaitForExitAsync();
        return (process.ExitCode == 0, output.ToString());
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
