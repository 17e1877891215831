using Microsoft.AspNetCore.Http;
using Modal.Storage.Hosting;

namespace Modal.Platform.Tests.Unit;

public sealed class StorageHostingExtensionsTests
{
    private const string Hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    [Theory]
    [InlineData("/v1/dicts/cache/entry")]
    [InlineData("/v1/dicts/cache/contains")]
    [InlineData("/v1/queues/jobs/items")]
    [InlineData("/v1/queues/jobs/get")]
    [InlineData("/v1/blobs/" + Hash)]
    public void IsDataOperation_EntryItemOrBlobContent_IsData(string path) =>
        Assert.True(StorageHostingExtensions.IsDataOperation(new PathString(path)));

    [Theory]
    [InlineData("/v1/dicts/cache")]
    [InlineData("/v1/dicts/cache/entries")]
    [InlineData("/v1/queues/jobs")]
    [InlineData("/v1/blobs/missing")]
    [InlineData("/v1/blobs/not-a-hash")]
    [InlineData("/v2/blobs/" + Hash)]
    [InlineData("/v1/volumes/models/commit")]
    [InlineData("/v1/volumes/models/file")]
    [InlineData("/health")]
    public void IsDataOperation_LifecycleListingOrVolumeRequest_IsNotData(string path) =>
        Assert.False(StorageHostingExtensions.IsDataOperation(new PathString(path)));
}
