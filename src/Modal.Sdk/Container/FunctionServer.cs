using System.Collections.Concurrent;
using System.Net.Sockets;
using Modal.Container.Protocol;

namespace Modal.Container;

/// <summary>
/// The program's role inside a container: create the class instance and run its <c>[Enter]</c> hooks (class
/// containers), start the ASP.NET Core app or server it serves (web containers), listen on the runner's socket, run each input (several at once when the runner sends several) with
/// its printed lines sent as that input's log, answer each with its output, honour cancels, and when the runner
/// hangs up finish what runs, stop the web app or server, run the <c>[Exit]</c> hooks and exit.
/// </summary>
internal static class FunctionServer
{
    public static async Task<int> ServeAsync(App app, string socketPath, CancellationToken cancellationToken)
    {
        // [Enter] runs before the socket exists, so the runner's start-up wait covers it and no input races it.
        var instance = Environment.GetEnvironmentVariable(ContainerProtocol.ClassVariable) is { Length: > 0 } className
            ? app.FindClass(className) ?? throw new InvalidOperationException($"App '{app.Name}' has no class named '{className}'.")
            : null;
        if (instance is not null)
        {
            await instance.EnterAsync().ConfigureAwait(false);
        }
        // The web app listens before the function socket exists, so a container the runner connects to is ready for requests.
        var web = await ContainerWebServer.StartAsync(app, cancellationToken).ConfigureAwait(false);
        try
        {
            using var serving = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, web?.Failed ?? CancellationToken.None);
            await ServeInputsAsync(app, socketPath, serving.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (web?.HasFailed == true)
        {
            // The server failed on its own (printed already): the container stops, and the runner sees it exit.
        }
        finally
        {
            if (web is not null)
            {
                await web.DisposeAsync().ConfigureAwait(false);
            }
        }
        if (instance is not null)
        {
            await instance.ExitAsync().ConfigureAwait(false);
        }
        return web?.HasFailed == true ? 1 : 0;
    }

    private static async Task ServeInputsAsync(App app, string socketPath, CancellationToken cancellationToken)
    {
        File.Delete(socketPath);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);

        // One runner connection per container.
        using var connection = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
        await using var stream = new NetworkStream(connection, ownsSocket: false);
        // Outputs finishing together leave in one write; the input's own thread writes, with no hand-over to a writer thread.
        var outgoing = new FrameWriter<ContainerFrame>(stream);
        Console.SetOut(new InputLogWriter(Console.Out, "stdout"));
        Console.SetError(new InputLogWriter(Console.Error, "stderr"));

        var running = new ConcurrentDictionary<long, CancellationTokenSource>();
        var batchers = new ConcurrentDictionary<string, InputBatcher>();
        var tasks = new List<Task>();
        try
        {
            // Reads are buffered: a burst of inputs arrives in one or a few system calls rather than two per frame.
            var incoming = new BufferedStream(stream, 64 * 1024);
            while (await ContainerProtocol.ReadAsync<RunnerFrame>(incoming, cancellationToken).ConfigureAwait(false) is { } frame)
            {
                if (frame.Type == FrameTypes.Cancel)
                {
                    if (running.TryGetValue(frame.Id, out var cancel))
                    {
                        await cancel.CancelAsync().ConfigureAwait(false);
                    }
                    continue;
                }
                tasks.RemoveAll(task => task.IsCompleted);
                var inputCancellation = new CancellationTokenSource();
                running[frame.Id] = inputCancellation;
                tasks.Add(Task.Run(async () =>
                {
                    try
                    {
                        outgoing.Post(await RunAsync(app, frame, outgoing, batchers, inputCancellation.Token).ConfigureAwait(false));
                    }
                    finally
                    {
                        running.TryRemove(frame.Id, out _);
                        inputCancellation.Dispose();
                    }
                }, CancellationToken.None));
            }
        }
        catch (IOException)
        {
            // The runner is gone (killed, or stopped us hard): finish as if it had hung up.
        }

        // The runner hung up: the container is stopping. Inputs still running are told so and finished.
        foreach (var cancel in running.Values)
        {
            await cancel.CancelAsync().ConfigureAwait(false);
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
        await outgoing.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<ContainerFrame> RunAsync(
        App app, RunnerFrame input, FrameWriter<ContainerFrame> outgoing, ConcurrentDictionary<string, InputBatcher> batchers, CancellationToken cancellation)
    {
        var function = app.Functions.FirstOrDefault(f => f.Name == input.Function);
        if (function is null)
        {
            return ContainerFrame.Threw(input.Id, typeof(MissingMethodException).FullName,
                $"App '{app.Name}' in this container has no function named '{input.Function}'.", null);
        }

        var context = new FunctionContext(input.FunctionCallId ?? "", function.Name,
            (stream, line) => outgoing.Post(ContainerFrame.Log(input.Id, stream, line)), cancellation);
        FunctionContext.Enter(context);
        var outcome = function.Batching is null
            ? await FunctionExecutor.ExecuteAsync(function, input.ArgumentsJson ?? "{}").ConfigureAwait(false)
            : await batchers.GetOrAdd(function.Name, _ => new InputBatcher(function)).RunAsync(input.ArgumentsJson ?? "{}", context).ConfigureAwait(false);
        context.FlushLog();
        return outcome.Exception is { } e
            ? ContainerFrame.Threw(input.Id, e.GetType().FullName, e.Message, e.StackTrace)
            : ContainerFrame.Returned(input.Id, outcome.ResultJson);
    }
}
