using System.Net;
using System.Security.Cryptography;
using Modal.Container.Protocol;
using Modal.Platform.Tests.Infrastructure;
using Modal.Volumes;

namespace Modal.Platform.Tests.Services;

/// <summary>The SDK's Volume through the Api (token auth, forwarding) to Storage on the real S3 endpoint and Redis.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class VolumeTests(StorageBehindApi platform) : IClassFixture<StorageBehindApi>, IDisposable
{
    private readonly DirectoryInfo _local = Directory.CreateTempSubdirectory("modal-volume-test-");

    public void Dispose() => _local.Delete(recursive: true);

    [Fact]
    public async Task ReadFileAsync_OneGiBFile_RoundTripsWithTheSameChecksum()
    {
        var volume = NewVolume();
        var source = Path.Combine(_local.FullName, "big.bin");
        var written = await WriteRandomFileAsync(source, 1024L * 1024 * 1024);

        await volume.BatchUpload().PutFile(source, "/big.bin").CommitAsync();
        await using var read = await volume.ReadFileAsync("big.bin");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        long total = 0;
        int count;
        while ((count = await read.ReadAsync(buffer)) > 0)
        {
            sha.AppendData(buffer, 0, count);
            total += count;
        }

        Assert.Equal(1024L * 1024 * 1024, total);
        Assert.Equal(written, Convert.ToHexStringLower(sha.GetHashAndReset()));
        Assert.Equal(total, Assert.Single(await volume.ListDirAsync("/")).Size);
    }

    // A thousand files, the suite's fast subset: 10,000 took over 4 minutes of the suite's 20. Larger counts are the
    // volume benchmark's (bench/Modal.Bench `volume [large-MiB] [small-files]`).
    [Fact]
    public async Task BatchUpload_AThousandSmallFiles_AllListedRecursively()
    {
        var volume = NewVolume();
        var folder = Directory.CreateDirectory(Path.Combine(_local.FullName, "many"));
        for (var i = 0; i < 1_000; i++)
        {
            var sub = Directory.CreateDirectory(Path.Combine(folder.FullName, $"d{i % 10}"));
            await File.WriteAllTextAsync(Path.Combine(sub.FullName, $"f{i}.txt"), $"file {i}");
        }

        var version = await volume.BatchUpload().PutDirectory(folder.FullName, "/data").CommitAsync();
        var files = (await volume.ListDirAsync("/data", recursive: true)).Where(e => !e.IsDirectory).ToList();

        Assert.Equal(1_000, version.FileCount);
        Assert.Equal(1_000, files.Count);
        Assert.Contains(files, f => f.Path == "data/d7/f567.txt" && f.Size == "file 567".Length);
        Assert.Equal(["data/d0", "data/d1", "data/d2", "data/d3", "data/d4", "data/d5", "data/d6", "data/d7", "data/d8", "data/d9"],
            (await volume.ListDirAsync("/data")).Select(e => e.Path));
    }

    [Fact]
    public async Task ReadFileAsync_LargeFile_BytesComeFromS3ThroughAPresignedRedirect_RangesToo()
    {
        var volume = NewVolume();
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        await UploadAsync(volume, "large.bin", bytes);
        var redirectsBefore = platform.DirectRedirects;

        var whole = await ReadAllAsync(await volume.ReadFileAsync("large.bin"));
        var ranged = await ReadAllAsync(await volume.ReadFileAsync("large.bin", 2_000_000, 1000));

        Assert.Equal(bytes, whole);
        Assert.Equal(bytes[2_000_000..2_001_000], ranged);
        Assert.Equal(2, platform.DirectRedirects - redirectsBefore);
    }

    [Fact]
    public async Task ReadFileAsync_LargeFileThroughTheApi_SameBytes()
    {
        var volume = NewVolume();
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        await UploadAsync(volume, "large.bin", bytes);

        var read = await ReadAllAsync(await Volume.FromName(platform.ProxiedClient, volume.Name).ReadFileAsync("large.bin", 1, 2 * 1024 * 1024 - 1));

        Assert.Equal(bytes[1..], read);
    }

    [Fact]
    public async Task ReadFileAsync_ByteRanges_ReturnExactlyThoseBytes()
    {
        var volume = NewVolume();
        var bytes = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7)).ToArray();
        await UploadAsync(volume, "ranged.bin", bytes);

        Assert.Equal(bytes[100..200], await ReadAllAsync(await volume.ReadFileAsync("ranged.bin", 100, 100)));
        Assert.Equal(bytes[9_990..], await ReadAllAsync(await volume.ReadFileAsync("ranged.bin", 9_990)));
        Assert.Equal(bytes[9_990..], await ReadAllAsync(await volume.ReadFileAsync("ranged.bin", 9_990, 500)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => volume.ReadFileAsync("ranged.bin", 10_000, 1));
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("/a/../../etc/passwd")]
    [InlineData("a/..")]
    public async Task Paths_WithDotDot_AreRefusedWith400(string path)
    {
        var volume = NewVolume();
        await UploadAsync(volume, "a/inside.txt", "x"u8.ToArray());

        var read = await platform.Client.Http.GetAsync(new Uri($"/v1/volumes/{volume.Name}/file?path={Uri.EscapeDataString(path)}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, read.StatusCode);
        Assert.Contains("'..' is not allowed", await read.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => volume.RemoveFileAsync(path, recursive: true));
        await Assert.ThrowsAsync<ArgumentException>(() => volume.CopyFilesAsync(["a/inside.txt"], path));
        var file = Path.Combine(_local.FullName, "x.txt");
        await File.WriteAllTextAsync(file, "x");
        await Assert.ThrowsAsync<ArgumentException>(() => volume.BatchUpload().PutFile(file, path).CommitAsync());
    }

    [Fact]
    public async Task ReadFileAsync_MissingFile_NotFoundNamesIt()
    {
        var volume = NewVolume();
        await UploadAsync(volume, "present.txt", "x"u8.ToArray());

        var error = await Assert.ThrowsAsync<NotFoundException>(() => volume.ReadFileAsync("absent/model.bin"));

        Assert.Contains("absent/model.bin", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Names_WithSpacesAndNonAscii_RoundTrip()
    {
        var volume = NewVolume();
        const string path = "モデル weights/größe ñ 1.bin";
        await UploadAsync(volume, path, "content"u8.ToArray());

        Assert.Equal("content"u8.ToArray(), await ReadAllAsync(await volume.ReadFileAsync(path)));
        Assert.Equal(["モデル weights"], (await volume.ListDirAsync("/")).Select(e => e.Path));
        Assert.Equal([path], (await volume.ListDirAsync("モデル weights")).Select(e => e.Path));
    }

    [Fact]
    public async Task BatchUpload_ExistingPath_RefusedWithoutForceReplacedWithForce()
    {
        var volume = NewVolume();
        await UploadAsync(volume, "f.txt", "one"u8.ToArray());
        var file = Path.Combine(_local.FullName, "two.txt");
        await File.WriteAllTextAsync(file, "two");

        await Assert.ThrowsAsync<AlreadyExistsException>(() => volume.BatchUpload().PutFile(file, "f.txt").CommitAsync());
        Assert.Equal("one"u8.ToArray(), await ReadAllAsync(await volume.ReadFileAsync("f.txt")));
        await volume.BatchUpload(force: true).PutFile(file, "f.txt").CommitAsync();
        Assert.Equal("two"u8.ToArray(), await ReadAllAsync(await volume.ReadFileAsync("f.txt")));
    }

    [Fact]
    public async Task CopyAndRemove_FollowCpAndRmSemantics()
    {
        var volume = NewVolume();
        await UploadAsync(volume, "src/a.txt", "a"u8.ToArray());
        await UploadAsync(volume, "src/sub/b.txt", "b"u8.ToArray());

        await volume.CopyFilesAsync(["src/a.txt"], "renamed.txt");
        await volume.CopyFilesAsync(["src/a.txt"], "into/");
        await Assert.ThrowsAsync<ArgumentException>(() => volume.CopyFilesAsync(["src"], "copy"));
        await volume.CopyFilesAsync(["src"], "copy", recursive: true);
        await volume.CopyFilesAsync(["src"], "copy", recursive: true); // Into the now existing folder, as cp -r.
        await Assert.ThrowsAsync<ArgumentException>(() => volume.RemoveFileAsync("src"));
        await volume.RemoveFileAsync("src", recursive: true);
        await Assert.ThrowsAsync<NotFoundException>(() => volume.RemoveFileAsync("src/a.txt"));

        var files = (await volume.ListDirAsync("/", recursive: true)).Where(e => !e.IsDirectory).Select(e => e.Path);
        Assert.Equal(["copy/a.txt", "copy/src/a.txt", "copy/src/sub/b.txt", "copy/sub/b.txt", "into/a.txt", "renamed.txt"], files);
        Assert.Equal("b"u8.ToArray(), await ReadAllAsync(await volume.ReadFileAsync("copy/sub/b.txt")));
    }

    [Fact]
    public async Task Lifecycle_CreateListRenameDelete()
    {
        var name = $"vol-{Guid.NewGuid():N}"[..20];
        var volume = Volume.FromName(platform.Client, name, createIfMissing: true);
        await UploadAsync(volume, "kept.txt", "kept"u8.ToArray());
        var taken = NewVolume();
        await taken.InfoAsync();

        Assert.Contains(await Volume.ListAsync(platform.Client), v => v.Name == name);
        await Assert.ThrowsAsync<AlreadyExistsException>(() => Volume.RenameAsync(platform.Client, name, taken.Name));
        await Volume.RenameAsync(platform.Client, name, name + "-new");
        Assert.Equal("kept"u8.ToArray(), await ReadAllAsync(await Volume.FromName(platform.Client, name + "-new").ReadFileAsync("kept.txt")));
        await Assert.ThrowsAsync<NotFoundException>(() => Volume.FromName(platform.Client, name).ListDirAsync());
        await Volume.DeleteAsync(platform.Client, name + "-new");
        Assert.DoesNotContain(await Volume.ListAsync(platform.Client), v => v.Name == name + "-new");
    }

    [Fact]
    public async Task EphemeralAsync_IsGoneAfterDispose()
    {
        string name;
        await using (var volume = await Volume.EphemeralAsync(platform.Client))
        {
            name = volume.Name;
            await UploadAsync(volume, "x.txt", "x"u8.ToArray());
            Assert.Single(await volume.ListDirAsync());
        }

        await Assert.ThrowsAsync<NotFoundException>(() => Volume.FromName(platform.Client, name).ListDirAsync());
    }

    [Fact]
    public async Task VolumeDirectory_TwoMountsCommitConcurrently_BothLandAndReloadSeesThem()
    {
        var volume = NewVolume();
        await UploadAsync(volume, "shared.txt", "original"u8.ToArray());
        await UploadAsync(volume, "doomed.txt", "bye"u8.ToArray());
        // Two containers' mounts of the same Volume, each committing its own changes at the same time.
        var first = new VolumeDirectory(platform.Client.Http, volume.Name, Path.Combine(_local.FullName, "first"));
        var second = new VolumeDirectory(platform.Client.Http, volume.Name, Path.Combine(_local.FullName, "second"));
        await first.SyncAsync();
        await second.SyncAsync();
        Assert.Equal("original", await File.ReadAllTextAsync(Path.Combine(first.Directory, "shared.txt")));

        await File.WriteAllTextAsync(Path.Combine(first.Directory, "from-first.txt"), "1");
        File.Delete(Path.Combine(first.Directory, "doomed.txt"));
        Directory.CreateDirectory(Path.Combine(second.Directory, "nested"));
        await File.WriteAllTextAsync(Path.Combine(second.Directory, "nested", "from-second.txt"), "2");
        await File.WriteAllTextAsync(Path.Combine(second.Directory, "shared.txt"), "changed by second");
        await Task.WhenAll(first.CommitAsync(), second.CommitAsync());

        var files = (await volume.ListDirAsync("/", recursive: true)).Where(e => !e.IsDirectory).Select(e => e.Path);
        Assert.Equal(["from-first.txt", "nested/from-second.txt", "shared.txt"], files);
        Assert.Equal("changed by second"u8.ToArray(), await ReadAllAsync(await volume.ReadFileAsync("shared.txt")));
        await first.SyncAsync();
        Assert.Equal("2", await File.ReadAllTextAsync(Path.Combine(first.Directory, "nested", "from-second.txt")));
        Assert.Equal("changed by second", await File.ReadAllTextAsync(Path.Combine(first.Directory, "shared.txt")));
        Assert.Null(await first.CommitAsync()); // Nothing changed since the reload.
    }

    [Fact]
    public async Task VolumeMounts_LocalPath_MapsMountPathsToTheirFolders()
    {
        Environment.SetEnvironmentVariable(VolumeMountAnnouncement.Variable,
            VolumeMountAnnouncement.Describe([new VolumeMount("/models", "weights", "/tmp/m0"), new VolumeMount("/models/extra", "more", "/tmp/m1")]));
        try
        {
            Assert.Equal("/tmp/m0/resnet/w.bin", VolumeMounts.LocalPath("/models/resnet/w.bin"));
            Assert.Equal("/tmp/m1/x", VolumeMounts.LocalPath("/models/extra/x"));
            Assert.Equal("/modelsx/y", VolumeMounts.LocalPath("/modelsx/y"));
            Assert.Equal("/tmp/m0", Volume.FromName(platform.Client, "weights").Mount!.Directory);
        }
        finally
        {
            Environment.SetEnvironmentVariable(VolumeMountAnnouncement.Variable, null);
        }
    }

    private Volume NewVolume() => Volume.FromName(platform.Client, $"vol-{Guid.NewGuid():N}"[..20], createIfMissing: true);

    private async Task UploadAsync(Volume volume, string path, byte[] content)
    {
        var file = Path.Combine(_local.FullName, Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(file, content);
        await volume.BatchUpload(force: true).PutFile(file, path).CommitAsync();
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        await using (stream)
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer);
            return buffer.ToArray();
        }
    }

    private static async Task<string> WriteRandomFileAsync(string path, long size)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var file = File.Create(path);
        var buffer = new byte[4 << 20];
        for (long written = 0; written < size; written += buffer.Length)
        {
            Random.Shared.NextBytes(buffer);
            sha.AppendData(buffer);
            await file.WriteAsync(buffer);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}
