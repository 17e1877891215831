using Minio;
using Minio.DataModel.Args;
using Modal.Platform.Tests.Infrastructure;
using Modal.Storage;

namespace Modal.Platform.Tests.Services;

[Collection(InfrastructureTestGroup.Name)]
public sealed class StorageTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task Start_FreshS3_CreatesItsBucketsAndReportsHealthy()
    {
        var blobBucket = $"blobs-{Guid.NewGuid():N}"[..20];
        var volumeBucket = $"volumes-{Guid.NewGuid():N}"[..20];
        await using var storage = new ServiceFactory<StorageOptions>(
            ("Storage:BlobBucket", blobBucket), ("Storage:VolumeBucket", volumeBucket));

        var health = await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(storage.CreateClient()),
            report => report.Status == "Healthy", "Storage reports healthy");

        Assert.Equal("Healthy", health.CheckStatus("s3"));
        Assert.Equal("Healthy", health.CheckStatus("Redis"));
        var s3 = new MinioClient().WithEndpoint("127.0.0.1", infrastructure.S3Port)
            .WithCredentials(infrastructure.S3StorageKey.AccessKey, infrastructure.S3StorageKey.SecretKey).WithRegion("us-east-1").Build();
        Assert.True(await s3.BucketExistsAsync(new BucketExistsArgs().WithBucket(blobBucket)));
        Assert.True(await s3.BucketExistsAsync(new BucketExistsArgs().WithBucket(volumeBucket)));
    }

    [Fact]
    public async Task Start_InvalidBucketName_FailsNamingTheSetting()
    {
        await using var storage = new ServiceFactory<StorageOptions>(("Storage:BlobBucket", "Not_A_Bucket"));

        var error = Assert.ThrowsAny<Exception>(() => storage.CreateClient());

        Assert.Contains("Storage:BlobBucket", error.ToString(), StringComparison.Ordinal);
    }
}
