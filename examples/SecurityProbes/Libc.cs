using System.Runtime.InteropServices;

namespace SecurityProbesExample;

/// <summary>The few system calls the probes make directly, so that their refusal is the kernel's, not a missing tool's.</summary>
internal static partial class Libc
{
    public const int AfInet = 2;
    public const int AfPacket = 17;
    public const int SockRaw = 3;
    public const int IpProtoRaw = 255;
    public const int SolSocket = 1;
    public const int SoRcvTimeo = 20;
    public const ulong MsBind = 4096;
    public const ulong MsRemount = 32;
    public const uint SIfBlk = 0x6000;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recv(int fd, [Out] byte[] buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, [In] long[] value, uint length);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mount(string? source, string target, string? type, ulong flags, nint data);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int umount(string target);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mknod(string path, uint mode, ulong device);

    /// <summary>The errno of the last failed call, as "EPERM (1)".</summary>
    public static string LastError()
    {
        var errno = Marshal.GetLastPInvokeError();
        return $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
    }

    /// <summary>
    /// The kernel refused: EPERM or EACCES for want of a privilege, or what a seccomp filter answers for a call or
    /// socket family it blocks (ENOSYS, EAFNOSUPPORT, EPROTONOSUPPORT, ESOCKTNOSUPPORT). Anything else (ENOENT, EINVAL)
    /// means the probe itself went wrong.
    /// </summary>
    public static bool LastErrorIsRefusal() => Marshal.GetLastPInvokeError() is 1 or 13 or 38 or 93 or 94 or 97;
}
