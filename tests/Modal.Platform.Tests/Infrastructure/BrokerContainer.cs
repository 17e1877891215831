using System.Net;
using System.Net.Sockets;
using Testcontainers.RabbitMq;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// A RabbitMQ broker of one test's own, in a throwaway container (Testcontainers.RabbitMq), for the tests that stop or
/// kill a broker mid-work: the run's shared broker (<see cref="InfrastructureFixture"/>) is never stopped under the
/// other tests. The engine is whatever Docker API answers: Docker's, or podman's as scripts/container-engine.sh starts it
/// on machines without Docker (with the image it builds from Debian's packages, <c>MODAL_TEST_RABBITMQ_IMAGE</c>;
/// elsewhere the official <c>rabbitmq</c> image, which takes the same settings). Where no engine answers the test fails
/// and says so: a broker test that cannot run must not pass.
/// </summary>
public sealed class BrokerContainer : IAsyncDisposable
{
    /// <summary>Debian 12's RabbitMQ, as the shared test broker runs it, where no local image was built.</summary>
    private const string OfficialImage = "rabbitmq:3.10";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private readonly RabbitMqContainer _container;
    private readonly int _port;

    private BrokerContainer(RabbitMqContainer container, int port)
    {
        _container = container;
        _port = port;
    }

    /// <summary>
    /// The broker's administrator on a fixed loopback port: services given this keep reconnecting to the same address
    /// across the broker's restarts (a port chosen by the engine would change with each start).
    /// </summary>
    public string ConnectionString =>
        $"amqp://{RabbitMqBuilder.DefaultUsername}:{RabbitMqBuilder.DefaultPassword}@127.0.0.1:{_port}/";

    /// <summary>Starts a fresh broker and waits until it has started (its log says so).</summary>
    public static async Task<BrokerContainer> StartAsync()
    {
        var port = FreeLoopbackPort();
        var image = Environment.GetEnvironmentVariable("MODAL_TEST_RABBITMQ_IMAGE") is { Length: > 0 } local ? local : OfficialImage;
        RabbitMqContainer container;
        try
        {
            var builder = new RabbitMqBuilder(image)
                .WithPortBinding(port, RabbitMqBuilder.RabbitMqPort)
                // Test traffic stays on loopback: the engine would publish the port on every interface.
                .WithCreateParameterModifier(parameters =>
                {
                    foreach (var binding in parameters.HostConfig?.PortBindings?.Values.SelectMany(bindings => bindings) ?? [])
                    {
                        binding.HostIP = "127.0.0.1";
                    }
                });
            // scripts/container-engine.sh stop removes what a crashed test run left under its label (Ryuk, Testcontainers'
            // own reaper, cannot be pulled here).
            if (Environment.GetEnvironmentVariable("MODAL_CONTAINER_ENGINE_RUN") is { Length: > 0 } run)
            {
                builder = builder.WithLabel("modal.container-engine-run", run);
            }
            container = builder.Build();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw NoEngine(image, e);
        }

        var broker = new BrokerContainer(container, port);
        try
        {
            using var timeout = new CancellationTokenSource(StartTimeout);
            await container.StartAsync(timeout.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            await broker.DisposeAsync();
            throw e is OperationCanceledException ? new TimeoutException($"The broker ({image}) did not start within {StartTimeout}.", e) : NoEngine(image, e);
        }
        return broker;
    }

    /// <summary>Stops the broker cleanly (SIGTERM: it closes its connections and syncs its queues).</summary>
    public Task StopAsync() => _container.StopAsync();

    /// <summary>
    /// Kills the broker's Erlang VM (SIGKILL, as a machine dying would: nothing is flushed or closed) and waits until the
    /// container has exited. The VM is a child of the container's first process, which then exits with it.
    /// </summary>
    public async Task KillAsync()
    {
        // kill -1 from inside the container reaches every process the broker's user owns there except the caller.
        _ = await _container.ExecAsync(["sh", "-c", "kill -KILL -1"]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        _ = await _container.GetExitCodeAsync(timeout.Token);
        // Records the stop time, so the next start waits for a new "Server startup complete" line, not the last run's.
        await _container.StopAsync();
    }

    /// <summary>Starts the stopped or killed broker again, on the same port and with the same data (durable queues, persistent messages).</summary>
    public async Task StartAgainAsync()
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        await _container.StartAsync(timeout.Token);
    }

    /// <summary>The broker's queues as <c>rabbitmqctl</c> lists them (name, ready, unacknowledged, consumers), for failure messages.</summary>
    public async Task<string> ListQueuesAsync()
    {
        var result = await _container.ExecAsync(["rabbitmqctl", "list_queues", "name", "messages_ready", "messages_unacknowledged", "consumers"]);
        return result.Stdout + result.Stderr;
    }

    public ValueTask DisposeAsync() => _container.DisposeAsync();

    private static InvalidOperationException NoEngine(string image, Exception cause) => new(
        $"No container engine ran a RabbitMQ broker ({image}) for this test (DOCKER_HOST={Environment.GetEnvironmentVariable("DOCKER_HOST") ?? "unset"}). " +
        "It needs a Docker API: on a machine without Docker, `eval \"$(scripts/container-engine.sh start)\"` starts podman's " +
        "(scripts/test.sh does). " + cause.Message, cause);

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
