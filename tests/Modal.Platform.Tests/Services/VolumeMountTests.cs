using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// Volumes mounted into real container processes by the runner (examples/VolumeCache): the latest version is there at
/// start, a container's changes are committed when it stops, and a later container sees them.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class VolumeMountTests(SpineFixture spine) : IClassFixture<SpineFixture>
{
    [Fact]
    public async Task ModelCache_FirstContainerDownloadsAndCommitsOnStop_NextContainerReadsTheCachedFile()
    {
        var models = Volume.FromName(spine.Client, "example-models", createIfMissing: true);
        var note = Path.Combine(spine.Markers, "note.txt");
        await File.WriteAllTextAsync(note, "written before the container started");
        await models.BatchUpload(force: true).PutFile(note, "notes/ünïcode note.txt").CommitAsync();
        var app = await spine.DeployExampleAsync("VolumeCache");
        var load = Function.FromName(spine.Client, app, "load_model");
        var read = Function.FromName(spine.Client, app, "read_note");

        Assert.Equal("written before the container started", await read.RemoteAsync<string>(new { name = "notes/ünïcode note.txt" }));
        Assert.Equal("downloaded", await load.RemoteAsync<string>(new { }));
        Assert.Equal("cached 1048576 bytes", await load.RemoteAsync<string>(new { })); // Same container, same folder.
        await spine.Client.Apps.StopAsync(app);
        var committed = await Eventually.ReturnsAsync(() => models.ListDirAsync("/", recursive: true),
            files => files.Any(f => f.Path == "resnet/model.bin"), "the stopped container's new file is committed");
        Assert.Equal(1 << 20, committed.Single(f => f.Path == "resnet/model.bin").Size);

        await spine.DeployExampleAsync("VolumeCache");
        Assert.Equal("cached 1048576 bytes", await load.RemoteAsync<string>(new { })); // A new container, mounted with the committed version.
    }
}
