using System.Net;
using System.Net.Sockets;
using Modal.GpuRunner.Containers;
using Modal.GpuRunner.Web;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// The runner's way into a container's network namespace, against a namespace the test makes (only loopback, as a
/// container's own with a blocked network) with a server listening on its loopback: reached through the dialer, not
/// through the node's loopback. Needs root and <c>ip</c>, as the runner's isolation does.
/// </summary>
public sealed class NamespaceDialerTests : IDisposable
{
    private readonly string _name = $"modal-test-{Guid.NewGuid():N}"[..17];
    private readonly Socket _server;

    public NamespaceDialerTests()
    {
        TestNetworkNamespace.Ip("netns", "add", _name);
        try
        {
            TestNetworkNamespace.Ip("-n", _name, "link", "set", "lo", "up");
            _server = TestNetworkNamespace.ListenInNamespace(NamespacePath, new IPEndPoint(IPAddress.Loopback, 0));
        }
        catch
        {
            TestNetworkNamespace.Ip("netns", "delete", _name);
            throw;
        }
        _ = TestNetworkNamespace.ServeAsync(_server);
    }

    private string NamespacePath => $"/run/netns/{_name}";

    private int Port => ((IPEndPoint)_server.LocalEndPoint!).Port;

    [Fact]
    public async Task ConnectAsync_LoopbackPortInsideTheNamespace_ConnectsWhereTheNodesLoopbackIsRefused()
    {
        using var dialer = await NamespaceDialer.OpenAsync(NamespacePath);

        using var inside = await dialer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port), CancellationToken.None);
        using var node = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var refused = await Assert.ThrowsAsync<SocketException>(() => node.ConnectAsync(new IPEndPoint(IPAddress.Loopback, Port)));

        Assert.True(inside.Connected);
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task WebContainer_ForPortInTheNamespace_ReadyAndAnswersHttpThroughItsClient()
    {
        using var web = WebContainer.ForPort("dialer-test", Port, () => NamespacePath, TimeSpan.FromSeconds(30), maxConcurrentRequests: 2);

        await web.WaitUntilReadyAsync(TimeSpan.FromSeconds(5), new TaskCompletionSource().Task, CancellationToken.None);
        using var response = await web.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "http://container/anything"), CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TestNetworkNamespace.Body, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task WebContainer_NothingListensOnThePort_FailsAfterTheStartupTimeoutSayingWhere()
    {
        using var free = TestNetworkNamespace.ListenInNamespace(NamespacePath, new IPEndPoint(IPAddress.Loopback, 0));
        var unused = ((IPEndPoint)free.LocalEndPoint!).Port;
        free.Dispose(); // A port of the namespace that nothing listens on now.
        using var web = WebContainer.ForPort("dialer-test", unused, () => NamespacePath, TimeSpan.FromSeconds(30), maxConcurrentRequests: 1);

        var error = await Assert.ThrowsAsync<ContainerCrashedException>(
            () => web.WaitUntilReadyAsync(TimeSpan.FromMilliseconds(300), new TaskCompletionSource().Task, CancellationToken.None));

        Assert.Contains($"port {unused} inside its network namespace", error.Message, StringComparison.Ordinal);
        Assert.Contains("within 0.3 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebContainer_ProcessExitedBeforeListening_FailsSayingItExited()
    {
        using var web = WebContainer.ForPort("dialer-test", 1, () => NamespacePath, TimeSpan.FromSeconds(30), maxConcurrentRequests: 1);

        var error = await Assert.ThrowsAsync<ContainerCrashedException>(
            () => web.WaitUntilReadyAsync(TimeSpan.FromSeconds(5), Task.CompletedTask, CancellationToken.None));

        Assert.Contains("exited before its server accepted connections", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_NoSuchNamespace_FailsWithFileNotFound()
    {
        await Assert.ThrowsAsync<FileNotFoundException>(() => NamespaceDialer.OpenAsync("/run/netns/modal-test-absent"));
    }

    public void Dispose()
    {
        _server.Dispose();
        TestNetworkNamespace.Ip("netns", "delete", _name);
    }
}
