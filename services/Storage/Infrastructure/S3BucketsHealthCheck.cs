using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Minio;
using Minio.DataModel.Args;

namespace Modal.Storage.Infrastructure;

/// <summary>Healthy when the S3 endpoint answers a signed request and every bucket the service needs exists.</summary>
public sealed class S3BucketsHealthCheck(IMinioClient s3, IOptions<StorageOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            foreach (var bucket in options.Value.AllBuckets)
            {
                if (!await s3.BucketExistsAsync(new BucketExistsArgs().WithBucket(bucket), cancellationToken))
                {
                    return new HealthCheckResult(context.Registration.FailureStatus, $"Bucket '{bucket}' does not exist.");
                }
            }
            return HealthCheckResult.Healthy();
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The S3 endpoint did not answer.", e);
        }
    }
}
