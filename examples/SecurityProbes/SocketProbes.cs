using System.Text;

namespace SecurityProbesExample;

/// <summary>Raw sockets: what a process needs to forge packets or read other processes' traffic.</summary>
internal static class SocketProbes
{
    // ETH_P_ALL in network byte order: every protocol, as tcpdump asks.
    private const int EthPAllNetworkOrder = 0x0300;

    public static ProbeResult[] RawSockets() =>
    [
        Open("packet-socket", "socket(AF_PACKET, SOCK_RAW, ETH_P_ALL)", Libc.AfPacket, EthPAllNetworkOrder),
        Open("raw-ip-socket", "socket(AF_INET, SOCK_RAW, IPPROTO_RAW)", Libc.AfInet, Libc.IpProtoRaw),
    ];

    /// <summary>Listens on every interface it can see for up to <paramref name="seconds"/> for <paramref name="canary"/>.</summary>
    public static ProbeResult[] Sniff(string canary, int seconds)
    {
        const string Name = "sniff-loopback";
        const string Target = "AF_PACKET on every interface";
        var fd = Libc.socket(Libc.AfPacket, Libc.SockRaw, EthPAllNetworkOrder);
        if (fd < 0)
        {
            return [Libc.LastErrorIsRefusal() ? ProbeResult.Refused(Name, Target, Libc.LastError()) : ProbeResult.Error(Name, Target, Libc.LastError())];
        }
        try
        {
            // A receive timeout (struct timeval: 0 s, 200 000 µs) so the loop sees its deadline on a quiet network.
            Libc.setsockopt(fd, Libc.SolSocket, Libc.SoRcvTimeo, [0, 200_000], 16);
            var wanted = Encoding.ASCII.GetBytes(canary);
            var buffer = new byte[65536];
            var deadline = DateTimeOffset.UtcNow.AddSeconds(seconds);
            var packets = 0;
            while (DateTimeOffset.UtcNow < deadline)
            {
                var read = (int)Libc.recv(fd, buffer, (nuint)buffer.Length, 0);
                if (read <= 0)
                {
                    continue;
                }
                packets++;
                if (buffer.AsSpan(0, read).IndexOf(wanted) >= 0)
                {
                    return [ProbeResult.Allowed(Name, Target, $"captured the canary in packet {packets} of another process's loopback traffic")];
                }
            }
            return [ProbeResult.Allowed(Name, Target, $"opened a packet socket and read {packets} packets (the canary was not among them)")];
        }
        finally
        {
            Libc.close(fd);
        }
    }

    private static ProbeResult Open(string name, string target, int domain, int protocol)
    {
        var fd = Libc.socket(domain, Libc.SockRaw, protocol);
        if (fd >= 0)
        {
            Libc.close(fd);
            return ProbeResult.Allowed(name, target, "opened");
        }
        return Libc.LastErrorIsRefusal() ? ProbeResult.Refused(name, target, Libc.LastError()) : ProbeResult.Error(name, target, Libc.LastError());
    }
}
