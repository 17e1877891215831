using Modal.Deployment;
using Modal.GpuRunner;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Storage, Api, Scheduler and a runner on the real infrastructure, with examples/Images deployed once: its Debian 12
/// image (jq and GNU hello installed, a file baked in, a variable set) built for real on the runner from the Debian
/// mirror, stored in S3 and used as its containers' root. Built once per run (about a minute and a half); the tests
/// reuse its layers.
/// </summary>
public sealed class ImagesFixture : IAsyncLifetime
{
    private PlatformServices Platform { get; } = new("modal-images-");

    private static readonly SemaphoreSlim EnvironmentLock = new(1, 1);

    // A base build takes one to two minutes here; a runner that never answers fails the deploy rather than hanging the run.
    private static readonly TimeSpan DeployLimit = TimeSpan.FromMinutes(10);

    public ModalClient Client => Platform.Client;

    public ServiceFactory<GpuRunnerOptions>? Runner { get; private set; }

    /// <summary>The deployed app's name (examples/Images under a name of this run).</summary>
    public string AppName { get; } = $"images-{Guid.NewGuid():N}"[..19];

    /// <summary>The first deploy, which built the image.</summary>
    public DeploymentResult First { get; private set; } = null!;

    /// <summary>What the first deploy's build printed.</summary>
    public IReadOnlyList<string> FirstLog { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Platform.Start();
        // Started now (a test server): it consumes the image-builds queue from its start.
        Runner = Platform.StartRunner($"images-{Guid.NewGuid():N}"[..16]);
        Platform.StartScheduler(("Scheduler:ScalingInterval", "00:00:00.250"));
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        First = await DeployAsync(extra: null, ephemeral: false, log.Enqueue);
        FirstLog = log.ToArray();
    }

    public async Task DisposeAsync() => await Platform.DisposeAsync();

    /// <summary>
    /// What <c>modal deploy</c> (or <c>modal run</c>, <paramref name="ephemeral"/>) does with examples/Images, its image
    /// given one more <c>RunCommands</c> step when <paramref name="extra"/> is set (the program reads it as it describes
    /// itself).
    /// </summary>
    public async Task<DeploymentResult> DeployAsync(string? extra, bool ephemeral, Action<string>? log = null)
    {
        await EnvironmentLock.WaitAsync();
        try
        {
            Environment.SetEnvironmentVariable("MODAL_EXAMPLE_IMAGES_APP", AppName);
            Environment.SetEnvironmentVariable("MODAL_EXAMPLE_IMAGES_EXTRA", extra);
            using var limit = new CancellationTokenSource(DeployLimit);
            return await AppDeployer.DeployAsync(Client, Examples.OutputDirectory("Images"), "Images.dll", ephemeral, log, limit.Token);
        }
        finally
        {
            Environment.SetEnvironmentVariable("MODAL_EXAMPLE_IMAGES_EXTRA", null);
            EnvironmentLock.Release();
        }
    }

    /// <summary>Two deploys at once (each an app of its own, as two `modal run`s), started together.</summary>
    public async Task<DeploymentResult[]> DeployTogetherAsync(string extra)
    {
        await EnvironmentLock.WaitAsync();
        try
        {
            Environment.SetEnvironmentVariable("MODAL_EXAMPLE_IMAGES_APP", AppName);
            Environment.SetEnvironmentVariable("MODAL_EXAMPLE_IMAGES_EXTRA", extra);
            using var limit = new CancellationTokenSource(DeployLimit);
            return await Task.WhenAll(
                AppDeployer.DeployAsync(Client, Examples.OutputDirectory("Images"), "Images.dll", ephemeral: true, cancellationToken: limit.Token),
                AppDeployer.DeployAsync(Client, Examples.OutputDirectory("Images"), "Images.dll", ephemeral: true, cancellationToken: limit.Token));
        }
        finally
        {
            Environment.SetEnvironmentVariable("MODAL_EXAMPLE_IMAGES_EXTRA", null);
            EnvironmentLock.Release();
        }
    }
}

[Collection(InfrastructureTestGroup.Name)]
public sealed class ImageBuildTests(ImagesFixture images) : IClassFixture<ImagesFixture>
{
    [Fact]
    public async Task Function_WithAptInstall_RunsTheImagesToolsWhileOneWithoutTheImageHasNone()
    {
        // Every step of the image was built by the first deploy, its log streamed as it came.
        Assert.Equal(4, images.First.BuiltImageSteps);
        Assert.Contains(images.FirstLog, line => line.Contains("=> Step 1/3: AptInstall(\"jq\", \"hello\")", StringComparison.Ordinal));

        var jq = await Function.FromName(images.Client, images.AppName, "jq_version").RemoteAsync<string>(new { });
        var hello = await Function.FromName(images.Client, images.AppName, "hello").RemoteAsync<string>(new { });
        var helloWithout = await Function.FromName(images.Client, images.AppName, "hello_without_image").RemoteAsync<string>(new { });
        var os = await Function.FromName(images.Client, images.AppName, "os_release").RemoteAsync<string>(new { });

        Assert.StartsWith("jq-1.", jq, StringComparison.Ordinal);
        Assert.Equal("Hello, world!", hello);
        // The node has jq itself, so GNU hello (installed in the same step, absent from the node) shows the difference.
        Assert.False(File.Exists("/usr/bin/hello"), "this test needs a node without GNU hello");
        Assert.Equal("(absent)", helloWithout);
        Assert.Equal("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"", os);
    }

    [Fact]
    public async Task Function_InAnImage_ReadsTheBakedFileAndTheImagesVariable()
    {
        var baked = await Function.FromName(images.Client, images.AppName, "baked").RemoteAsync<string>(new { });

        Assert.Equal("baked into the image at build time|set by the image", baked);
    }

    [Fact]
    public async Task Deploy_Again_BuildsNothing()
    {
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();

        var again = await images.DeployAsync(extra: null, ephemeral: false, log.Enqueue);

        Assert.Equal(0, again.BuiltImageSteps);
        Assert.DoesNotContain(log.ToArray(), line => line.StartsWith("=> Step", StringComparison.Ordinal));
        var listed = Assert.Single(await images.Client.Images.ListAsync(), i => i.ImageId == images.First.Manifest!.Functions[0].Image!.Id);
        Assert.StartsWith("DebianSlim(\"bookworm\").AptInstall(\"jq\", \"hello\")", listed.Definition, StringComparison.Ordinal);
        Assert.True(listed.SizeBytes > 50L * 1024 * 1024, $"size {listed.SizeBytes}");
    }

    [Fact]
    public async Task Deploy_WithOneMoreRunCommandsStep_BuildsOnlyThatStep()
    {
        var marker = Guid.NewGuid().ToString("N");
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();

        var run = await images.DeployAsync($"echo {marker} > /extra.txt", ephemeral: true, log.Enqueue);

        Assert.Equal(1, run.BuiltImageSteps);
        Assert.Equal(["=> Step 4/4: RunCommands(\"echo " + marker + " > /extra.txt\")"],
            log.ToArray().Where(line => line.StartsWith("=> Step", StringComparison.Ordinal) && !line.Contains(" done ", StringComparison.Ordinal)));
        Assert.Equal(marker, await Function.FromName(images.Client, run.App.Id, "file").RemoteAsync<string>(new { path = "/extra.txt" }));
        await images.Client.Apps.StopAsync(run.App.Id);
    }

    [Fact]
    public async Task Deploy_FailingStep_FailsWithItsLogAndThePreviousDeploymentKeepsServing()
    {
        var before = await images.Client.Apps.GetAsync(images.AppName);

        var error = await Assert.ThrowsAsync<ImageBuildException>(() => images.DeployAsync("echo about-to-fail-7d1 && exit 3", ephemeral: false));

        Assert.Equal(4, error.FailedStep);
        Assert.Contains("RunCommands(\"echo about-to-fail-7d1 && exit 3\")", error.Message, StringComparison.Ordinal);
        // The step runs inside mmdebstrap's unshare helper, whose own exit code (not the step's 3) is what the builder sees.
        Assert.Contains("exited with", error.Message, StringComparison.Ordinal);
        Assert.Contains("about-to-fail-7d1", error.Message, StringComparison.Ordinal); // The tail of the step's log.
        var after = await images.Client.Apps.GetAsync(images.AppName);
        Assert.Equal(before.Version, after.Version);
        Assert.StartsWith("jq-1.", await Function.FromName(images.Client, images.AppName, "jq_version").RemoteAsync<string>(new { }), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_TwoAtOnceOfOneNewImage_BuildItOnce()
    {
        var both = await images.DeployTogetherAsync($"echo concurrent-{Guid.NewGuid():N} > /concurrent.txt");

        Assert.Equal(1, both.Sum(d => d.BuiltImageSteps));
        Assert.All(both, d => Assert.Equal(both[0].Manifest!.Functions[0].Image!.Id, d.Manifest!.Functions[0].Image!.Id));
        foreach (var deployment in both)
        {
            Assert.StartsWith("concurrent-", await Function.FromName(images.Client, deployment.App.Id, "file").RemoteAsync<string>(new { path = "/concurrent.txt" }),
                StringComparison.Ordinal);
            await images.Client.Apps.StopAsync(deployment.App.Id);
        }
    }
}
