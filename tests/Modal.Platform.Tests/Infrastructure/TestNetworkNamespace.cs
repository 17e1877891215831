using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// "The outside" for a container's egress, made by the test: a network namespace of its own joined to the node by a veth
/// pair with addresses from a private /30 (10.231.x.0/30: the node's end .1, the namespace's .2), and an HTTP server
/// bound in the namespace that answers every request 200 with <see cref="Body"/>. Traffic goes nowhere but here. Also a
/// listener on the node's end of the pair (a local address of the node, as its real ones are). Needs root and
/// <c>ip</c>; disposing removes everything.
/// </summary>
public sealed partial class TestNetworkNamespace : IDisposable
{
    /// <summary>What the server answers.</summary>
    public const string Body = "hello from the test's namespace";

    private readonly Socket _server;
    private readonly Socket _nodeListener;
    private readonly string _name;
    private readonly string _nodeLink;

    public TestNetworkNamespace()
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        _name = $"modal-test-{id}";
        _nodeLink = $"mt{id}a"; // Interface names have at most 15 characters.
        var subnet = RandomNumberGenerator.GetInt32(0, 256);
        NodeAddress = IPAddress.Parse($"10.231.{subnet}.1");
        ServerAddress = IPAddress.Parse($"10.231.{subnet}.2");
        Ip("netns", "add", _name);
        try
        {
            Ip("link", "add", _nodeLink, "type", "veth", "peer", "name", $"mt{id}b", "netns", _name);
            Ip("addr", "add", $"{NodeAddress}/30", "dev", _nodeLink);
            Ip("link", "set", _nodeLink, "up");
            Ip("-n", _name, "addr", "add", $"{ServerAddress}/30", "dev", $"mt{id}b");
            Ip("-n", _name, "link", "set", $"mt{id}b", "up");
            Ip("-n", _name, "link", "set", "lo", "up");
            _server = ListenInNamespace($"/run/netns/{_name}", new IPEndPoint(ServerAddress, 0));
            _nodeListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _nodeListener.Bind(new IPEndPoint(NodeAddress, 0));
            _nodeListener.Listen();
        }
        catch
        {
            Ip("netns", "delete", _name);
            throw;
        }
        _ = ServeAsync(_server);
        _ = ServeAsync(_nodeListener);
    }

    /// <summary>The node's end of the pair: one of the node's own addresses, with a listener on <see cref="NodePort"/>.</summary>
    public IPAddress NodeAddress { get; }

    /// <summary>Where the listener on the node's end listens.</summary>
    public int NodePort => ((IPEndPoint)_nodeListener.LocalEndPoint!).Port;

    /// <summary>The server's address, in the namespace.</summary>
    public IPAddress ServerAddress { get; }

    /// <summary>The server's URL.</summary>
    public Uri ServerUrl => new($"http://{ServerAddress}:{((IPEndPoint)_server.LocalEndPoint!).Port}/");

    public void Dispose()
    {
        _server.Dispose();
        _nodeListener.Dispose();
        // Deleting the namespace deletes its end of the pair, and with it the node's end.
        Ip("netns", "delete", _name);
    }

    /// <summary>A listening socket made in the namespace (a socket stays in the namespace it was made in).</summary>
    internal static Socket ListenInNamespace(string namespacePath, IPEndPoint endPoint)
    {
        Socket? socket = null;
        Exception? failure = null;
        // setns changes only the calling thread's namespace: a thread of its own, which goes back before it ends.
        var thread = new Thread(() =>
        {
            using var home = File.OpenHandle("/proc/thread-self/ns/net");
            using var target = File.OpenHandle(namespacePath);
            try
            {
                if (SetNamespace(target.DangerousGetHandle().ToInt32(), 0x40000000 /* CLONE_NEWNET */) != 0)
                {
                    throw new IOException($"setns({namespacePath}) failed: errno {Marshal.GetLastPInvokeError()}");
                }
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(endPoint);
                socket.Listen();
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                if (SetNamespace(home.DangerousGetHandle().ToInt32(), 0x40000000) != 0)
                {
                    Environment.FailFast("A test thread could not return to the node's network namespace.");
                }
            }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw new IOException($"Could not listen in {namespacePath}", failure);
    }

    internal static async Task ServeAsync(Socket listener)
    {
        var answer = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {Body.Length}\r\nConnection: close\r\n\r\n{Body}");
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        // One request, up to its blank line, then the answer.
                        var request = new StringBuilder();
                        var buffer = new byte[4096];
                        while (!request.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
                        {
                            var read = await client.ReceiveAsync(buffer);
                            if (read == 0)
                            {
                                return;
                            }
                            request.Append(Encoding.ASCII.GetString(buffer, 0, read));
                        }
                        await client.SendAsync(answer);
                        client.Shutdown(SocketShutdown.Both);
                    }
                    catch (SocketException)
                    {
                    }
                }
            });
        }
    }

    internal static void Ip(params string[] arguments)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"ip {string.Join(' ', arguments)} failed ({process.ExitCode.ToString(CultureInfo.InvariantCulture)}): {error}");
        }
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNamespace(int fd, int namespaceType);
}
