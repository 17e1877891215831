using System.Diagnostics;
using System.Net.Http.Json;
using Modal.Deployment;
using Modal.Platform.Tests.Infrastructure;
using Modal.Rest;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// TorchSharp apps (examples/HelloGpu, TrainMlp, BatchEmbeddings) in the spine's real containers, on the CPU: the
/// device helper's CPU fallback and its failure where a GPU was asked for and cannot be used (the spine's runner has
/// simulated GPUs only), training that resumes from a Volume checkpoint, a deterministic batch map, and libtorch's
/// native libraries crossing the wire and the runner's cache once.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class TorchExamplesTests(SpineFixture spine) : IClassFixture<SpineFixture>
{
    private sealed record TrainingReport(int StartEpoch, int EndEpoch, double InitialLoss, double FinalLoss);

    [Fact]
    public async Task HelloGpu_FunctionWithoutGpu_RunsItsTensorOpOnTheCpu()
    {
        var app = await spine.DeployExampleAsync("HelloGpu");

        var said = await Function.FromName(spine.Client, app, "hello_cpu").RemoteAsync<string>(new { });

        Assert.Contains("device: cpu (this container holds no GPU", said, StringComparison.Ordinal);
        Assert.Contains("sums to 54", said, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelloGpu_GpuAskedOnASimulatedGpu_FailsAtStartSayingWhy()
    {
        var app = await spine.DeployExampleAsync("HelloGpu");

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => Function.FromName(spine.Client, app, "hello").RemoteAsync<string>(new { }));

        Assert.Contains("asked for a GPU and cannot use CUDA", failure.Message, StringComparison.Ordinal);
        Assert.Contains("simulated", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TrainMlp_SecondRun_ResumesFromTheCheckpointWithALowerLoss()
    {
        var app = await spine.DeployExampleAsync("TrainMlp");
        var train = Function.FromName(spine.Client, app, "train");
        var run = $"ci-{Guid.NewGuid():N}"[..15];

        var first = await train.RemoteAsync<TrainingReport>(new { run, epochs = 2 });
        // The next run in a new container: what it resumes from is what the Volume holds.
        await spine.Client.Apps.StopAsync(app);
        await spine.DeployExampleAsync("TrainMlp");
        var second = await train.RemoteAsync<TrainingReport>(new { run, epochs = 2 });

        Assert.Equal((0, 2), (first.StartEpoch, first.EndEpoch));
        Assert.Equal((2, 4), (second.StartEpoch, second.EndEpoch));
        Assert.Equal(first.FinalLoss, second.InitialLoss, 4); // It starts from the first run's last checkpoint…
        Assert.True(second.FinalLoss < first.FinalLoss, $"loss {first.FinalLoss} then {second.FinalLoss}"); // …and goes lower.
        Assert.True(first.FinalLoss < first.InitialLoss);
    }

    [Fact]
    public async Task BatchEmbeddings_HundredTexts_HundredUnitVectorsOfDimension32_TheSameEveryTime()
    {
        var app = await spine.DeployExampleAsync("BatchEmbeddings");
        var embed = new App(app) { Client = spine.Client }.Function("embed", (string text) => Array.Empty<float>());
        var texts = Enumerable.Range(0, 100).Select(i => $"Document {i}: sample text about item {i % 7}.").ToList();

        var vectors = await embed.MapAsync(texts).ToListAsync();
        var again = await embed.MapAsync(texts.Take(10).Reverse()).ToListAsync();

        Assert.Equal(100, vectors.Count);
        Assert.All(vectors, v => Assert.Equal(32, v.Length));
        Assert.All(vectors, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 4));
        Assert.Equal(100, vectors.Select(v => string.Join(',', v)).Distinct().Count()); // Different texts, different vectors.
        Assert.Equal(vectors.Take(10).Reverse().Select(v => string.Join(',', v)), again.Select(v => string.Join(',', v)));
    }

    [Fact]
    public async Task Deploy_TorchApps_NativeLibrariesUploadedOnce_AOneFileChangeUploadsUnderOnePercent_TheRunnerLinksItsCopy()
    {
        // A copy of HelloGpu's build output with a file of its own, changed between the two deploys.
        var copy = Directory.CreateTempSubdirectory("hello-gpu-").FullName;
        try
        {
            CopyFolder(Examples.OutputDirectory("HelloGpu"), copy);
            await File.WriteAllTextAsync(Path.Combine(copy, "notes.txt"), "first");
            await spine.DeployExampleAsync("TrainMlp"); // Every libtorch file is on the platform after this one (or earlier).

            var (firstBytes, totalBytes) = await BytesToUploadAsync(copy);
            var first = await AppDeployer.DeployAsync(spine.Client, copy, "HelloGpu.dll");
            await File.WriteAllTextAsync(Path.Combine(copy, "notes.txt"), "second");
            var (changedBytes, _) = await BytesToUploadAsync(copy);
            var second = await AppDeployer.DeployAsync(spine.Client, copy, "HelloGpu.dll");

            Assert.True(totalBytes > 400_000_000, $"the bundle holds {totalBytes} bytes"); // libtorch is in it…
            Assert.True(firstBytes < totalBytes / 100, $"{firstBytes} of {totalBytes} bytes uploaded"); // …and was not sent again.
            Assert.True(changedBytes < totalBytes / 100, $"{changedBytes} of {totalBytes} bytes uploaded after a one-file change");
            Assert.Equal(2, second.UploadedBlobs); // The changed file and the new manifest.
            Assert.NotEqual(first.Bundle.Id, second.Bundle.Id);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }

        // Two TorchSharp apps ran on the runner: one copy of libtorch_cpu.so in its cache, linked into both bundles.
        await Function.FromName(spine.Client, await spine.DeployExampleAsync("HelloGpu"), "hello_cpu").RemoteAsync<string>(new { });
        await Function.FromName(spine.Client, await spine.DeployExampleAsync("TrainMlp"), "train").RemoteAsync<TrainingReport>(
            new { run = $"links-{Guid.NewGuid():N}"[..16], epochs = 1 });
        var copies = Directory.GetFiles(Path.Combine(spine.RunnerRoot, "cache", "bundles"), "libtorch_cpu.so", SearchOption.AllDirectories);
        Assert.True(copies.Length >= 2, $"{copies.Length} bundles on the runner hold libtorch_cpu.so");
        Assert.Single(copies.Select(Inode).Distinct());
    }

    /// <summary>What the uploader will send for the app in <paramref name="folder"/> (the platform's missing blobs), and the bundle's size.</summary>
    private async Task<(long Missing, long Total)> BytesToUploadAsync(string folder)
    {
        var bundle = await Bundle.FromDirectoryAsync(folder, "HelloGpu.dll");
        using var response = await spine.Client.Http.PostAsJsonAsync("/v1/blobs/missing", bundle.LocalFiles.Keys.Append(bundle.Id).ToArray());
        response.EnsureSuccessStatusCode();
        var missing = await response.Content.ReadFromJsonAsync<string[]>() ?? [];
        var bytes = missing.Sum(hash => hash == bundle.Id ? bundle.ManifestJson.Length : new FileInfo(bundle.LocalFiles[hash]).Length);
        return (bytes, bundle.LocalFiles.Values.Sum(path => new FileInfo(path).Length));
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static string Inode(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%d:%i", path]) { RedirectStandardOutput = true })!;
        var inode = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return inode;
    }
}
