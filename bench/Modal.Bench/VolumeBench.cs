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
        try
        {
            // Large file: fresh random content, so neither side finds it stored already.
            var large = Path.Combine(work.FullName, "large.bin");
            await WriteRandomAsync(large, largeMiB * 1024L * 1024);
            var bytes = largeMiB * 1024.0 * 1024;
            var rawPut = await TimeAsync(async () =>
            {
                await using var file = File.OpenRead(large);
                await minio.PutObjectAsync(new PutObjectArgs().WithBucket(bucket).WithObject("large.bin").WithStreamData(file).WithObjectSize(file.Length));
            });
            var rawGet = await TimeAsync(async () =>
            {
                await using var file = File.Create(Path.Combine(work.FullName, "raw-get.bin"));
                await minio.GetObjectAsync(new GetObjectArgs().WithBucket(bucket).WithObject("large.bin").WithCallbackStream((s, t) => s.CopyToAsync(file, t)));
            });
            var put = await TimeAsync(() => volume.BatchUpload().PutFile(large, "large.bin").CommitAsync());
            var get = await TimeAsync(async () =>
            {
                await using var file = File.Create(Path.Combine(work.FullName, "volume-get.bin"));
                await volume.ReadFileIntoAsync("large.bin", file);
            });
            Report($"large put {largeMiB} MiB", bytes / rawPut / 1e6, bytes / put / 1e6, "MB/s");
            Report($"large get {largeMiB} MiB", bytes / rawGet / 1e6, bytes / get / 1e6, "MB/s");

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
        }
    }

    private static void Report(string what, double raw, double platform, string unit) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what,-28} raw {raw,10:F1} {unit}   volume {platform,10:F1} {unit}   ratio {platform / raw:F2}"));

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
    }
}
