using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Modal.GpuRunner.Web;

/// <summary>
/// Opens TCP connections inside a container's network namespace, never through the node's: a thread of its own enters
/// the namespace once (<c>setns</c> changes only the calling thread's) and makes sockets there on request. A socket
/// keeps the namespace it was made in, so its connect, and everything after, runs on any thread. One per container,
/// disposed with it (its thread then returns to the node's namespace and ends).
/// </summary>
public sealed partial class NamespaceDialer : IDisposable
{
    private const int CloneNewNet = 0x40000000;

    private readonly BlockingCollection<(AddressFamily Family, TaskCompletionSource<Socket> Made)> _requests = [];

    private NamespaceDialer()
    {
    }

    /// <summary>
    /// Enters the network namespace at <paramref name="namespacePath"/> (<c>/run/netns/…</c> or <c>/proc/{pid}/ns/net</c>)
    /// on a thread of its own; fails with <see cref="IOException"/> when it cannot (gone, or the runner may not enter it:
    /// entering a namespace takes root).
    /// </summary>
    public static Task<NamespaceDialer> OpenAsync(string namespacePath)
    {
        ArgumentNullException.ThrowIfNull(namespacePath);
        var dialer = new NamespaceDialer();
        var entered = new TaskCompletionSource<NamespaceDialer>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => dialer.Serve(namespacePath, entered)) { IsBackground = true, Name = "web-dialer" };
        thread.Start();
        return entered.Task;
    }

    /// <summary>Connects to <paramref name="endPoint"/> as seen from inside the namespace.</summary>
    public async Task<Socket> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var made = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            _requests.Add((endPoint.AddressFamily, made), cancellationToken);
        }
        catch (InvalidOperationException)
        {
            throw new ObjectDisposedException(nameof(NamespaceDialer), "The container's network namespace dialer is closed.");
        }
        var socket = await made.Task.WaitAsync(cancellationToken);
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(endPoint, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _requests.CompleteAdding();

    private void Serve(string namespacePath, TaskCompletionSource<NamespaceDialer> entered)
    {
        SafeHandle home;
        try
        {
            home = File.OpenHandle("/proc/thread-self/ns/net");
            using var target = File.OpenHandle(namespacePath);
            if (SetNamespace(target.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                home.Dispose();
                throw new IOException($"Could not enter the network namespace {namespacePath} (setns: errno {errno}).");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            entered.SetException(e as IOException ?? new IOException(e.Message, e));
            return;
        }
        entered.SetResult(this);
        using (home)
        {
            foreach (var (family, made) in _requests.GetConsumingEnumerable())
            {
                try
                {
                    made.TrySetResult(new Socket(family, SocketType.Stream, ProtocolType.Tcp));
                }
                catch (SocketException e)
                {
                    made.TrySetException(e);
                }
            }
            // An ending thread's OS thread is not reused, but going back costs nothing and leaves no thread of the
            // runner's process in a container's namespace should that ever change.
            if (SetNamespace(home.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
            {
                Environment.FailFast("A web dialer thread could not return to the node's network namespace.");
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNamespace(int fd, int namespaceType);
}
