using System.Net.Sockets;

namespace Modal.Container;

/// <summary>
/// The program's role inside a container: listen on the runner's socket, run each input with the app's functions
/// (several at once when the runner sends several), answer each with its output, and exit when the runner hangs up.
/// </summary>
internal static class FunctionServer
{
    public static async Task<int> ServeAsync(App app, string socketPath, CancellationToken cancellationToken)
    {
        File.Delete(socketPath);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);

        // One runner connection per container.
        using var connection = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
        await using var stream = new NetworkStream(connection, ownsSocket: false);
        using var writeLock = new SemaphoreSlim(1);
        var running = new List<Task>();

        while (await ContainerProtocol.ReadAsync<ContainerInput>(stream, cancellationToken).ConfigureAwait(false) is { } input)
        {
            running.RemoveAll(task => task.IsCompleted);
            running.Add(Task.Run(() => RunAsync(app, input, stream, writeLock, cancellationToken), cancellationToken));
        }
        await Task.WhenAll(running).ConfigureAwait(false);
        return 0;
    }

    private static async Task RunAsync(App app, ContainerInput input, Stream stream, SemaphoreSlim writeLock, CancellationToken cancellationToken)
    {
        var function = app.Functions.FirstOrDefault(f => f.Name == input.Function);
        var output = function is null
            ? new ContainerOutput(input.Id, false, null, typeof(MissingMethodException).FullName,
                $"App '{app.Name}' in this container has no function named '{input.Function}'.", null)
            : ToOutput(input.Id, await FunctionExecutor.ExecuteAsync(function, input.ArgumentsJson).ConfigureAwait(false));

        await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ContainerProtocol.WriteAsync(stream, output, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            writeLock.Release();
        }
    }

    private static ContainerOutput ToOutput(long id, FunctionOutcome outcome) => outcome.Exception is { } e
        ? new ContainerOutput(id, false, null, e.GetType().FullName, e.Message, e.StackTrace)
        : new ContainerOutput(id, true, outcome.ResultJson, null, null, null);
}
