using System.Diagnostics;
using System.Globalization;
using Minio;
using Minio.DataModel.Args;

namespace Modal.Bench;

/// <summary>
/// Volume throughput against the raw Minio SDK on the same S3 endpoint, in the same run: a large file put and get
/// (targets ≥ 0.8× raw), and a batch of small files against raw concurrent PUTs (target ≥ 0.8×).
/// </summary>
internal static class VolumeBench
{
    private const int RawParallelism = 16;

    public static async Task<int> RunAsync(ModalClient client, Uri s3, string accessKey, string secretKey, int largeMiB, int smallFiles)
    {
        var work = Directory.CreateTempSubdirectory("modal-volume-bench-");
        var minio = new MinioClient().WithEndpoint(s3.Host, s3.Port).WithCredentials(accessKey, secretKey).WithSSL(false).Build();
        const string bucket = "modal-bench-raw";
        if (!await minio.BucketExistsAsync(new BucketExistsArgs().WithBucket(bucket)))
        {
            await minio.MakeBucketAsync(new MakeBucketArgs().WithBucket(bucket));
        }
        var volume = Volume.FromName(client, $"bench-{Guid.NewGuid():N}"[..20], createIfMissing: true);
        var puts = new List<(string Side, double Seconds)>();
        var gets = new List<(string Side, double Seconds)>();
        try
        {
            // Large files: fresh random content, so neither side finds it stored already. Two files, in the order raw,
            // Volume, Volume, raw, so that neither side always goes first (the page cache, S3's disk flushing the
            // previous upload) and each side's figure is the mean of two.
            var largeA = Path.Combine(work.FullName, "large-a.bin");
            var largeB = Path.Combine(work.FullName, "large-b.bin");
            await WriteRandomAsync(largeA, largeMiB * 1024L * 1024);
            await WriteRandomAsync(largeB, largeMiB * 1024L * 1024);
            var bytes = largeMiB * 1024.0 * 1024;
            async Task RawPut(string path) => puts.Add(("raw", await TimeAsync(async () =>
            {
                await using var file = File.OpenRead(path);
                await minio.PutObjectAsync(new PutObjectArgs().WithBucket(bucket).WithObject(Path.GetFileName(path)).WithStreamData(file).WithObjectSize(file.Length));
            })));
            async Task RawGet(string path) => gets.Add(("raw", await TimeAsync(async () =>
            {
                await using var file = File.Create(path + ".raw-get");
                await minio.GetObjectAsync(new GetObjectArgs().WithBucket(bucket).WithObject(Path.GetFileName(path)).WithCallbackStream((s, t) => s.CopyToAsync(file, t)));
            })));
            async Task VolumePut(string path) =>
                puts.Add(("volume", await TimeAsync(() => volume.BatchUpload().PutFile(path, Path.GetFileName(path)).CommitAsync())));
            async Task VolumeGet(string path) => gets.Add(("volume", await TimeAsync(async () =>
            {
                await using var file = File.Create(path + ".volume-get");
                await volume.ReadFileIntoAsync(Path.GetFileName(path), file);
            })));
            await RawPut(largeA);
            await VolumePut(largeA);
            await VolumePut(largeB);
            await RawPut(largeB);
            await RawGet(largeA);
            await VolumeGet(largeA);
            await VolumeGet(largeB);
            await RawGet(largeB);
            foreach (var (what, runs) in new[] { ("put", puts), ("get", gets) })
            {
                Console.WriteLine($"large {what} runs in order (MB/s): {string.Join(", ", runs.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Side} {bytes / r.Seconds / 1e6:F1}")))}");
                Report($"large {what} {largeMiB} MiB (mean of 2)", Mean(runs, "raw", bytes), Mean(runs, "volume", bytes), "MB/s");
            }
            foreach (var file in work.EnumerateFiles("large-*"))
            {
                file.Delete();
            }

            // Small files: distinct 1 KiB contents.
            var folder = Directory.CreateDirectory(Path.Combine(work.FullName, "small"));
            var paths = new List<string>();
            for (var i = 0; i < smallFiles; i++)
            {
                var path = Path.Combine(folder.FullName, $"f{i}.bin");
                var content = new byte[1024];
                Random.Shared.NextBytes(content);
                await File.WriteAllBytesAsync(path, content);
                paths.Add(path);
            }
            var rawSmall = await TimeAsync(() => Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = RawParallelism }, async (path, token) =>
            {
                await using var file = File.OpenRead(path);
                await minio.PutObjectAsync(new PutObjectArgs().WithBucket(bucket).WithObject($"small/{Path.GetFileName(path)}")
                    .WithStreamData(file).WithObjectSize(file.Length), token);
            }));
            var small = await TimeAsync(() => volume.BatchUpload().PutDirectory(folder.FullName, "small").CommitAsync());
            Report($"small batch {smallFiles} × 1 KiB", smallFiles / rawSmall, smallFiles / small, "files/s");
            return 0;
        }
        finally
        {
            await Volume.DeleteAsync(client, volume.Name);
            work.Delete(recursive: true);
            // The raw side's objects (2 GiB a run) go too. The Volume side's blobs stay: Storage never deletes a blob
            // (no collection of unreferenced ones yet), so every run leaves its 2 GiB of random files in S3.
            foreach (var name in new[] { "large-a.bin", "large-b.bin" })
            {
                await minio.RemoveObjectAsync(new RemoveObjectArgs().WithBucket(bucket).WithObject(name));
            }
        }
    }

    private static void Report(string what, double raw, double platform, string unit) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what,-28} raw {raw,10:F1} {unit}   volume {platform,10:F1} {unit}   ratio {platform / raw:F2}"));

    /// <summary>Throughput over all of one side's runs: total bytes over total time.</summary>
    private static double Mean(List<(string Side, double Seconds)> runs, string side, double bytes)
    {
        var mine = runs.Where(r => r.Side == side).ToList();
        return mine.Count * bytes / mine.Sum(r => r.Seconds) / 1e6;
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var watch = Stopwatch.StartNew();
        await action();
        return watch.Elapsed.TotalSeconds;
    }

    private static async Task WriteRandomAsync(string path, long size)
    {
        await using var file = File.Create(path);
        var buffer = new byte[4 << 20];
        for (long written = 0; written < size; written += buffer.Length)
        {
            Random.Shared.NextBytes(buffer);
            await file.WriteAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, size - written)));
        }
        // On disk before any put is timed: otherwise the kernel writes the fresh 2 GiB back while the first puts run (the
        // same disk S3 writes to), and those puts, raw and Volume, measure the write-back as much as themselves.
        file.Flush(flushToDisk: true);
    }
}
