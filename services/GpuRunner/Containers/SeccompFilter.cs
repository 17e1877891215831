using System.Runtime.InteropServices;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// The seccomp profile of isolated containers: every system call is allowed but those a function never needs and that
/// widen what a hostile one can reach of the kernel (mounts, modules, kexec, tracing other processes, BPF, keyrings, new
/// namespaces, raw and packet sockets…), which fail with <c>EPERM</c> (not a kill: a library probing for a feature
/// carries on). Built once at the runner's start with libseccomp (Debian's <c>libseccomp2</c>) into a BPF program in a
/// file that bubblewrap loads (<c>--seccomp FD</c>). Calls of another ABI (i386, x32) than the runner's kill the thread:
/// libseccomp's default for a foreign architecture, so those entry points cannot go around the list.
/// </summary>
public static partial class SeccompFilter
{
    /// <summary>System calls that fail with EPERM in a container, by name (names this architecture lacks are skipped).</summary>
    public static readonly IReadOnlyList<string> Refused =
    [
        // File systems and the mount tree (old and new mount API).
        "mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
        "mount_setattr", "swapon", "swapoff", "quotactl", "quotactl_fd", "name_to_handle_at", "open_by_handle_at",
        // The kernel itself.
        "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "syslog", "acct",
        "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl", "ioperm", "lookup_dcookie", "nfsservctl",
        "uselib", "vhangup", "sysfs", "_sysctl",
        // Other processes' memory and the kernel's introspection.
        "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "bpf", "perf_event_open", "userfaultfd",
        // Keyrings (not namespaced).
        "keyctl", "add_key", "request_key",
        // New namespaces (the container has its own already).
        "setns", "unshare",
    ];

    private const uint ActionAllow = 0x7fff0000;
    private const int Eperm = 1;
    private const int Enosys = 38;
    private const ulong AddressFamilyInet = 2, AddressFamilyInet6 = 10, AddressFamilyPacket = 17;
    private const ulong SocketTypeRaw = 3;
    private const ulong SocketTypeMask = 0xf; // SOCK_NONBLOCK and SOCK_CLOEXEC are or-ed into the type.

    /// <summary>
    /// clone(2) flags that make namespaces: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (NEWTIME shares the
    /// low byte with the exit signal and is taken by clone3 and unshare only).
    /// </summary>
    private static readonly ulong[] NamespaceFlags = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];

    /// <summary>Writes the BPF program to <paramref name="path"/>; throws <see cref="SeccompUnavailableException"/> when libseccomp is missing or refuses.</summary>
    public static void Write(string path)
    {
        IntPtr filter;
        try
        {
            filter = Init(ActionAllow);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new SeccompUnavailableException($"libseccomp is not installed ({e.Message}); install Debian's libseccomp2");
        }
        if (filter == IntPtr.Zero)
        {
            throw new SeccompUnavailableException("seccomp_init failed");
        }
        try
        {
            foreach (var name in Refused)
            {
                Refuse(filter, name, Eperm);
            }
            // No packet sockets and no raw IP sockets: a container never sniffs or forges traffic. Raw netlink sockets stay:
            // getifaddrs (.NET's NetworkInterface) and getaddrinfo with AI_ADDRCONFIG open one to read the container's
            // own interfaces, and its network namespace is all they show.
            Refuse(filter, "socket", Eperm, new ArgumentComparison(0, CompareOperator.Equal, AddressFamilyPacket, 0));
            foreach (var family in (ulong[])[AddressFamilyInet, AddressFamilyInet6])
            {
                Refuse(filter, "socket", Eperm,
                    new ArgumentComparison(0, CompareOperator.Equal, family, 0),
                    new ArgumentComparison(1, CompareOperator.MaskedEqual, SocketTypeMask, SocketTypeRaw));
            }
            // clone with a namespace flag; clone3 passes its flags in memory a filter cannot read, so it says "not here"
            // and glibc falls back to clone (what Docker's and Podman's profiles do).
            foreach (var flag in NamespaceFlags)
            {
                Refuse(filter, "clone", Eperm, new ArgumentComparison(0, CompareOperator.MaskedEqual, flag, flag));
            }
            Refuse(filter, "clone3", Enosys);
            var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
            Directory.CreateDirectory(directory);
            var partial = $"{path}.{Guid.NewGuid():N}";
            using (var file = File.Open(partial, FileMode.CreateNew, FileAccess.Write))
            {
                var result = ExportBpf(filter, (int)file.SafeFileHandle.DangerousGetHandle());
                if (result != 0)
                {
                    throw new SeccompUnavailableException($"seccomp_export_bpf failed ({result})");
                }
            }
            File.Move(partial, path, overwrite: true);
        }
        finally
        {
            Release(filter);
        }
    }

    private static void Refuse(IntPtr filter, string name, int errno, params ArgumentComparison[] comparisons)
    {
        var syscall = ResolveName(name);
        if (syscall < 0)
        {
            return; // Not a system call of this architecture.
        }
        var result = RuleAddArray(filter, 0x00050000u | (uint)(errno & 0xffff), syscall, (uint)comparisons.Length, comparisons);
        if (result != 0)
        {
            throw new SeccompUnavailableException($"seccomp_rule_add for {name} failed ({result})");
        }
    }

    /// <summary>libseccomp's <c>struct scmp_arg_cmp</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct ArgumentComparison(uint Argument, CompareOperator Operator, ulong DatumA, ulong DatumB);

    private enum CompareOperator
    {
        Equal = 4,
        MaskedEqual = 7,
    }

    [LibraryImport("libseccomp.so.2", EntryPoint = "seccomp_init")]
    private static partial IntPtr Init(uint defaultAction);

    [LibraryImport("libseccomp.so.2", EntryPoint = "seccomp_syscall_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ResolveName(string name);

    // The _array form: seccomp_rule_add is variadic, which P/Invoke cannot call portably.
    [LibraryImport("libseccomp.so.2", EntryPoint = "seccomp_rule_add_array")]
    private static partial int RuleAddArray(IntPtr filter, uint action, int syscall, uint count, [In] ArgumentComparison[] comparisons);

    [LibraryImport("libseccomp.so.2", EntryPoint = "seccomp_export_bpf")]
    private static partial int ExportBpf(IntPtr filter, int fd);

    [LibraryImport("libseccomp.so.2", EntryPoint = "seccomp_release")]
    private static partial void Release(IntPtr filter);
}

/// <summary>The seccomp profile could not be built on this node.</summary>
public sealed class SeccompUnavailableException(string message) : Exception(message);
