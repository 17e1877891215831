using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Modal.Container.Protocol;

namespace Modal.GpuRunner.Containers;

/// <summary>
/// One container: the app's program started as a function server, and the socket the runner talks to it over.
/// Inputs are multiplexed on the one connection (ids correlate outputs), so a container can run several at once.
/// </summary>
public sealed partial class ContainerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly string _runtimeDirectory;
    private readonly FrameWriter<RunnerFrame> _writer;

    // Set by the read loop when the connection ended, before it fails the inputs still waiting: an input registered
    // after that sees it and fails at once rather than wait forever.
    private volatile bool _gone;
    private readonly ConcurrentDictionary<long, PendingInput> _pending = new();
    private readonly Task _readLoop;
    private long _nextInputId;

    private ContainerProcess(string id, Process process, Socket socket, string runtimeDirectory)
    {
        Id = id;
        _process = process;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _writer = new FrameWriter<RunnerFrame>(_stream);
        _runtimeDirectory = runtimeDirectory;
        _readLoop = Task.Run(ReadOutputsAsync);
    }

    public string Id { get; }

    /// <summary>The container's first process on the node (bubblewrap's, or the program's for a plain process).</summary>
    public int ProcessId => _process.Id;

    /// <summary>What a container keeps of the runner's environment: enough to find and run dotnet, nothing secret.</summary>
    private static readonly string[] InheritedVariables =
        ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "DOTNET_ROOT", "DOTNET_CLI_TELEMETRY_OPTOUT", "DOTNET_NOLOGO"];

    /// <summary>Completes when the container's process has exited.</summary>
    public Task Exited => _process.WaitForExitAsync();

    /// <summary>Starts the program as a plain child process (<see cref="ProcessLauncher"/>); see the overload.</summary>
    public static Task<ContainerProcess> StartAsync(
        ContainerSpec spec, string runtimeRoot, TimeSpan startupTimeout, Action<string, bool> onOutputLine, CancellationToken cancellationToken) =>
        StartAsync(spec, new ProcessLauncher(DotnetHost.Resolve()), runtimeRoot, startupTimeout, onOutputLine, cancellationToken);

    /// <summary>
    /// Starts the program through <paramref name="launcher"/> and connects to its function server. Fails with
    /// <see cref="ContainerCrashedException"/> (carrying the end of its output) if it exits or does not listen within
    /// <paramref name="startupTimeout"/>.
    /// </summary>
    public static async Task<ContainerProcess> StartAsync(
        ContainerSpec spec, IContainerLauncher launcher, string runtimeRoot, TimeSpan startupTimeout, Action<string, bool> onOutputLine,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(launcher);
        var runtimeDirectory = Path.Combine(runtimeRoot, spec.ContainerId);
        Directory.CreateDirectory(runtimeDirectory);
        // The function server, running as the container's uid, makes its socket here.
        launcher.HandOver(runtimeDirectory);
        var socketPath = Path.Combine(runtimeDirectory, "fn.sock");

        // A container starts from a clean environment: the runner's own holds its broker and store credentials.
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in InheritedVariables)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                environment[name] = value;
            }
        }
        foreach (var (name, value) in spec.Environment)
        {
            environment[name] = value;
        }
        var start = launcher.Command(spec, runtimeDirectory, environment).ToStartInfo(spec.CgroupProcsFiles);

        Process process;
        try
        {
            process = await ContainerSpawner.StartAsync(start);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            throw new ContainerCrashedException($"Could not start '{start.FileName}' for {spec.EntryAssembly}: {e.Message}");
        }
        var recentOutput = new ConcurrentQueue<string>();
        void Capture(string? line, bool isError)
        {
            if (line is null)
            {
                return;
            }
            recentOutput.Enqueue(line);
            while (recentOutput.Count > 20 && recentOutput.TryDequeue(out _))
            {
            }
            onOutputLine(line, isError);
        }
        process.OutputDataReceived += (_, e) => Capture(e.Data, false);
        process.ErrorDataReceived += (_, e) => Capture(e.Data, true);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var startup = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        startup.CancelAfter(startupTimeout);
        try
        {
            var socket = await ConnectAsync(socketPath, process, startup.Token);
            return new ContainerProcess(spec.ContainerId, process, socket, runtimeDirectory);
        }
        catch (Exception e) when (e is OperationCanceledException or ContainerCrashedException)
        {
            var reason = process.HasExited ? "exited during start-up" : $"did not listen within {startupTimeout.TotalSeconds:0.#} s";
            KillTree(process);
            // Lets the output readers drain what the process printed last: usually the reason it failed.
            process.WaitForExit(TimeSpan.FromSeconds(2));
            process.Dispose();
            throw new ContainerCrashedException(
                $"Container {spec.ContainerId} ({spec.EntryAssembly}) {reason}. Last output:\n{string.Join('\n', recentOutput)}");
        }
    }

    /// <summary>
    /// Runs one input; <paramref name="onLog"/> gets each line it prints. Cancelling <paramref name="cancellationToken"/>
    /// tells the function (its <c>FunctionContext.CancellationToken</c>, the SDK's) and stops waiting. Fails with
    /// <see cref="ContainerCrashedException"/> if the container dies first.
    /// </summary>
    public async Task<ContainerFrame> InvokeAsync(
        string function, string argumentsJson, string functionCallId, Action<string, string> onLog, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextInputId);
        var pending = new PendingInput(new TaskCompletionSource<ContainerFrame>(TaskCreationOptions.RunContinuationsAsynchronously), onLog);
        _pending[id] = pending;
        try
        {
            await SendAsync(RunnerFrame.Input(id, function, argumentsJson, functionCallId), cancellationToken);
            try
            {
                return await pending.Output.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await SendAsync(RunnerFrame.Cancel(id), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
                throw;
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private Task SendAsync(RunnerFrame frame, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // Inputs sent at once share a write (FrameWriter coalesces them). Not waiting for the write saves each input a
        // hand-over between threads; a connection that breaks afterwards ends the read loop, which fails every input
        // it has not answered (the caller registered its input before sending, and checks _gone after).
        return _writer.Post(frame) && !_gone
            ? Task.CompletedTask
            : Task.FromException(new ContainerCrashedException($"Container {Id} is gone: its connection is closed."));
    }

    /// <summary>Kills the container's process tree at once (a timeout, a cancel, a stop).</summary>
    public void Kill() => KillTree(_process);

    public async ValueTask DisposeAsync()
    {
        // Closing the socket tells the function server to finish; anything still running after a grace period is killed.
        _socket.Shutdown(SocketShutdown.Both);
        _socket.Dispose();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(5)))
        {
            Kill();
        }
        await _readLoop.ConfigureAwait(false);
        _process.Dispose();
        await _writer.DisposeAsync();
        await _stream.DisposeAsync();
        try
        {
            Directory.Delete(_runtimeDirectory, recursive: true);
        }
        catch (IOException)
        {
            // The socket file may linger a moment after the process; the folder is under the runner's runtime root.
        }
    }

    private async Task ReadOutputsAsync()
    {
        string reason;
        try
        {
            // Buffered: outputs written together by the container are read together.
            var incoming = new BufferedStream(_stream, 64 * 1024);
            while (await ContainerProtocol.ReadAsync<ContainerFrame>(incoming, CancellationToken.None) is { } frame)
            {
                if (!_pending.TryGetValue(frame.Id, out var input))
                {
                    continue; // A cancelled input's late output or lines: nobody waits for them.
                }
                if (frame.Type == FrameTypes.Log)
                {
                    input.OnLog(frame.Stream ?? "stdout", frame.Text ?? "");
                }
                else
                {
                    input.Output.TrySetResult(frame);
                }
            }
            reason = "closed its connection";
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ObjectDisposedException or SocketException)
        {
            reason = $"broke its connection ({e.Message})";
        }

        _gone = true;
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(_ => { }, TaskScheduler.Default);
        var exit = _process.HasExited ? $" and exited with code {_process.ExitCode}" : "";
        foreach (var waiter in _pending.Values.Select(input => input.Output))
        {
            waiter.TrySetException(new ContainerCrashedException($"Container {Id} {reason}{exit} while an input was running."));
        }
    }

    private static async Task<Socket> ConnectAsync(string socketPath, Process process, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                throw new ContainerCrashedException("exited");
            }
            if (File.Exists(socketPath))
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return socket;
                }
                catch (SocketException)
                {
                    socket.Dispose();
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
        }
    }

    private sealed record PendingInput(TaskCompletionSource<ContainerFrame> Output, Action<string, string> OnLog);

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
