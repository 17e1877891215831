using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Images;
using Modal.GpuRunner.Bundles;
using Modal.GpuRunner.Containers;

namespace Modal.GpuRunner.Images;

/// <summary>
/// Builds the steps of an image that are not built yet (<see cref="BuildImage"/>), one after another in one working
/// root: the base from the Debian mirror (<c>mmdebstrap</c>) or the workspace's tarball, or the last built layer
/// unpacked; then each step in that root under bubblewrap, as root of the build user's namespace (<see cref="ImageSandbox"/>),
/// in a network namespace of its own (egress without the node's addresses) where the node makes them. After each step
/// that changes files, the whole root is stored as a tar blob of the workspace (a layer is a full snapshot, so a
/// container needs one blob). The log streams to the Api as it comes; a step that fails, the build's timeout
/// (<see cref="GpuRunnerOptions.ImageBuildTimeout"/>) or a layer over <see cref="GpuRunnerOptions.ImageMaxBytes"/> ends
/// the build with the step and its log's tail.
/// </summary>
public sealed partial class ImageBuilder(
    ImageSandbox sandbox, ImageRoots roots, BundleCache blobs, ContainerIsolation isolation, IHttpClientFactory httpClients,
    IBus events, IOptions<GpuRunnerOptions> options, TimeProvider clock, ILogger<ImageBuilder> logger)
{
    private const int TailLines = 30;

    public async Task<ImageBuildFinished> BuildAsync(BuildImage command, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var log = new BuildLog(command, events);
        var built = new List<ImageLayer>();
        var first = command.Steps.TakeWhile(s => s.Layer is not null).Count();
        var failedStep = (int?)null;
        string? error = null;
        var work = Path.Combine(roots.BuildFolder, command.BuildId.ToString("N"));
        ContainerNetwork? network = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.ImageBuildTimeout);
        try
        {
            if (sandbox.Unavailable is { } unavailable)
            {
                throw new ImageStepException($"This runner cannot build images: {unavailable}.");
            }
            var root = Path.Combine(work, "root");
            var temp = Path.Combine(work, "tmp");
            Directory.CreateDirectory(work);
            ImageSandbox.SetMode(work, 0x1ED);
            sandbox.GiveToBuildRoot(root);
            sandbox.GiveToBuildRoot(Path.Combine(work, "out"));
            sandbox.GiveToBuildUser(temp);
            if (isolation.Networks is { Unavailable: null } networks)
            {
                network = await networks.CreateAsync(timeout.Token);
            }
            var state = first > 0 ? command.Steps[first - 1].Layer! : null;
            var unpacked = false;
            for (var i = first; i < command.Steps.Count; i++)
            {
                failedStep = i;
                var step = command.Steps[i];
                log.Add($"=> Step {i}/{command.Steps.Count - 1}: {step.Description}");
                var stopwatch = Stopwatch.StartNew();
                if (!unpacked && state is not null && !ImageStepKindsOnRunner.IsMetadata(step.Kind))
                {
                    // The last built layer, unpacked once per build (later steps work on in the same root).
                    var tar = await blobs.EnsureBlobAsync(command.WorkspaceId, state.RootBlob, timeout.Token);
                    await RunOrFailAsync(sandbox.RunAsRootAsync(ImageSandbox.Unpack(root, tar), temp, null, log.Add, timeout.Token), log, "unpacking the parent layer");
                    unpacked = true;
                }
                var layer = await BuildStepAsync(command, step, state, root, temp, network?.Path, log, timeout.Token);
                unpacked |= !ImageStepKindsOnRunner.IsMetadata(step.Kind);
                built.Add(layer);
                state = layer;
                log.Add($"=> Step {i} done in {stopwatch.Elapsed.TotalSeconds:F1} s ({layer.SizeBytes / (1024.0 * 1024):F1} MiB)");
            }
            failedStep = null;
            if (unpacked && state is not null)
            {
                roots.Adopt(state.RootBlob, root);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            error = $"The build ran past its limit of {settings.ImageBuildTimeout.TotalMinutes:F0} minutes (GpuRunner:ImageBuildTimeout).";
        }
        catch (ImageStepException e)
        {
            error = e.Message;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or HttpRequestException or InvalidOperationException or UnauthorizedAccessException)
        {
            error = $"{e.GetType().Name}: {e.Message}";
        }
        finally
        {
            network?.Dispose();
            isolation.Networks?.Refill();
            await log.FlushAsync();
            try
            {
                if (Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
            catch (IOException e)
            {
                LogCleanupFailed(logger, work, e.Message);
            }
        }
        if (error is not null)
        {
            error = $"{error}\n--- last lines of the log ---\n{string.Join('\n', log.Tail)}";
        }
        return new ImageBuildFinished
        {
            WorkspaceId = command.WorkspaceId,
            BuildId = command.BuildId,
            ImageId = command.ImageId,
            Succeeded = error is null,
            Built = built,
            FailedStep = error is null ? null : failedStep,
            FailedStepDescription = error is not null && failedStep is { } f ? command.Steps[f].Description : null,
            Error = error,
            RunnerId = settings.RunnerId,
        };
    }

    private async Task<ImageLayer> BuildStepAsync(
        BuildImage command, ImageBuildStep step, ImageLayer? parent, string root, string temp, string? network, BuildLog log, CancellationToken cancellationToken)
    {
        var env = parent?.Env ?? [];
        var workdir = parent?.Workdir;
        switch (step.Kind)
        {
            case "env":
                var merged = env.Select(v => (Name: v[..v.IndexOf('=', StringComparison.Ordinal)], Line: v))
                    .Where(v => !step.Args.Any(a => a.StartsWith(v.Name + "=", StringComparison.Ordinal))).Select(v => v.Line).Concat(step.Args).ToList();
                return Layer(step, parent!.RootBlob, parent.SizeBytes, merged, workdir);
            case "workdir":
                return Layer(step, parent!.RootBlob, parent.SizeBytes, env, step.Args[0]);
            case "from_tarball":
                var tarball = await blobs.EnsureBlobAsync(command.WorkspaceId, step.Files[0].Sha256, cancellationToken);
                await RunOrFailAsync(sandbox.RunAsRootAsync(ImageSandbox.Unpack(root, tarball), temp, null, log.Add, cancellationToken), log, "unpacking the tarball");
                return Layer(step, step.Files[0].Sha256, new FileInfo(tarball).Length, env, workdir);
            case "debian_slim":
                var suite = step.Args[0];
                var packages = string.Join(',', step.Args.Skip(1));
                var baseTar = Path.Combine(temp, "base.tar");
                await RunOrFailAsync(sandbox.DebootstrapAsync(
                    ["--variant=apt", $"--include={packages}", suite, baseTar], temp, network, log.Add, cancellationToken), log, "mmdebstrap");
                await RunOrFailAsync(sandbox.RunAsRootAsync(ImageSandbox.Unpack(root, baseTar), temp, null, log.Add, cancellationToken), log, "unpacking the base");
                return await StoreAsync(command, step, baseTar, env, workdir, cancellationToken);
            case "apt_install":
                var install = "apt-get update -q && apt-get install -y -q --no-install-recommends " + string.Join(' ', step.Args.Select(Quote))
                    + " && apt-get clean && rm -rf /var/lib/apt/lists/*";
                await RunOrFailAsync(sandbox.RunAsRootAsync(sandbox.InRoot(root, install, env, workdir), temp, network, log.Add, cancellationToken), log, "apt-get");
                return await SnapshotAsync(command, step, root, temp, env, workdir, log, cancellationToken);
            case "run_commands":
                foreach (var shell in step.Args)
                {
                    log.Add($"$ {shell}");
                    var prepare = workdir is null ? "" : $"mkdir -p {Quote(workdir)} && cd {Quote(workdir)} && ";
                    await RunOrFailAsync(sandbox.RunAsRootAsync(sandbox.InRoot(root, prepare + shell, env, null), temp, network, log.Add, cancellationToken), log, shell);
                }
                return await SnapshotAsync(command, step, root, temp, env, workdir, log, cancellationToken);
            case "add_files":
                var script = new StringBuilder("set -e\n");
                foreach (var (file, index) in step.Files.Select((f, i) => (f, i)))
                {
                    var blob = await blobs.EnsureBlobAsync(command.WorkspaceId, file.Sha256, cancellationToken);
                    var target = root + file.Path;
                    script.Append(CultureInfo.InvariantCulture,
                        $"mkdir -p {Quote(Path.GetDirectoryName(target)!)} && cp {Quote(blob)} {Quote(target)} && chmod {Convert.ToString(file.Mode & 0x1FF, 8)} {Quote(target)}\n");
                }
                var scriptPath = Path.Combine(temp, "add-files.sh");
                await File.WriteAllTextAsync(scriptPath, script.ToString(), cancellationToken);
                ImageSandbox.SetMode(scriptPath, 0x1A4);
                await RunOrFailAsync(sandbox.RunAsRootAsync(["sh", scriptPath], temp, null, log.Add, cancellationToken), log, "copying the files");
                return await SnapshotAsync(command, step, root, temp, env, workdir, log, cancellationToken);
            default:
                throw new ImageStepException($"Unknown step kind '{step.Kind}'.");
        }
    }

    private async Task<ImageLayer> SnapshotAsync(
        BuildImage command, ImageBuildStep step, string root, string temp, IReadOnlyList<string> env, string? workdir, BuildLog log,
        CancellationToken cancellationToken)
    {
        var tar = Path.Combine(Path.GetDirectoryName(root)!, "out", "layer.tar");
        await RunOrFailAsync(sandbox.RunAsRootAsync(["tar", "-C", root, "--numeric-owner", "--exclude=./.modal-image-complete", "-cf", tar, "."], temp, null, log.Add, cancellationToken),
            log, "archiving the layer");
        return await StoreAsync(command, step, tar, env, workdir, cancellationToken);
    }

    /// <summary>Checks the size, uploads the tar as the workspace's blob and keeps it as this node's copy.</summary>
    private async Task<ImageLayer> StoreAsync(
        BuildImage command, ImageBuildStep step, string tar, IReadOnlyList<string> env, string? workdir, CancellationToken cancellationToken)
    {
        var size = new FileInfo(tar).Length;
        if (size > options.Value.ImageMaxBytes)
        {
            throw new ImageStepException(
                $"The layer is {size / (1024 * 1024)} MiB, over the limit of {options.Value.ImageMaxBytes / (1024 * 1024)} MiB (GpuRunner:ImageMaxBytes).");
        }
        string hash;
        await using (var read = File.OpenRead(tar))
        {
            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(read, cancellationToken));
        }
        var http = httpClients.CreateClient(BundleCache.StorageClientName);
        await using (var body = File.OpenRead(tar))
        using (var request = StorageWorkspace.For(command.WorkspaceId, HttpMethod.Put, $"/v1/blobs/{hash}"))
        {
            request.Content = new StreamContent(body);
            request.Content.Headers.ContentLength = size;
            using var response = await http.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new ImageStepException($"Storage answered {(int)response.StatusCode} storing the layer.");
            }
        }
        blobs.Adopt(command.WorkspaceId, hash, tar);
        return Layer(step, hash, size, env, workdir);
    }

    private ImageLayer Layer(ImageBuildStep step, string rootBlob, long size, IReadOnlyList<string> env, string? workdir) => new()
    {
        Key = step.Key,
        RootBlob = rootBlob,
        SizeBytes = size,
        Env = env,
        Workdir = workdir,
        BuiltAt = clock.GetUtcNow(),
    };

    private static async Task RunOrFailAsync(Task<int> run, BuildLog log, string what)
    {
        var exit = await run;
        if (exit != 0)
        {
            log.Add($"!! {what} exited with {exit}");
            throw new ImageStepException($"'{what}' exited with {exit}.");
        }
    }

    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the build folder {Folder}: {Reason}")]
    private static partial void LogCleanupFailed(ILogger logger, string folder, string reason);

    /// <summary>The build's log: kept in part for the failure's tail, published to the Api in batches as it comes.</summary>
    private sealed class BuildLog(BuildImage command, IBus events)
    {
        private readonly Lock _lock = new();
        private readonly Queue<string> _tail = new();
        private List<string> _pending = [];
        private long _sequence;
        private Task _flushing = Task.CompletedTask;
        private DateTime _lastFlush = DateTime.UtcNow;

        public IReadOnlyList<string> Tail
        {
            get
            {
                lock (_lock)
                {
                    return [.. _tail];
                }
            }
        }

        public void Add(string line)
        {
            lock (_lock)
            {
                _tail.Enqueue(line);
                while (_tail.Count > TailLines)
                {
                    _tail.Dequeue();
                }
                _pending.Add(line);
                if (DateTime.UtcNow - _lastFlush > TimeSpan.FromMilliseconds(250) || _pending.Count >= 200)
                {
                    StartFlush();
                }
            }
        }

        public async Task FlushAsync()
        {
            lock (_lock)
            {
                StartFlush();
            }
            await _flushing;
        }

        // Batches go out one after another, in order.
        private void StartFlush()
        {
            _lastFlush = DateTime.UtcNow;
            if (_pending.Count == 0)
            {
                return;
            }
            var lines = _pending;
            _pending = [];
            var sequence = ++_sequence;
            var previous = _flushing;
            _flushing = PublishAfterAsync(previous, lines, sequence);
        }

        private async Task PublishAfterAsync(Task previous, List<string> lines, long sequence)
        {
            await previous;
            await events.Publish(new ImageBuildLogged
            {
                WorkspaceId = command.WorkspaceId,
                BuildId = command.BuildId,
                ImageId = command.ImageId,
                Sequence = sequence,
                Lines = lines,
            });
        }
    }
}

/// <summary>A step failed; the message says which command and why.</summary>
public sealed class ImageStepException(string message) : Exception(message);

/// <summary>Step kinds as the runner sees them (the wire names of the SDK's <c>ImageStepKinds</c>).</summary>
internal static class ImageStepKindsOnRunner
{
    public static bool IsMetadata(string kind) => kind is "env" or "workdir";
}
