using Microsoft.Extensions.Options;
using Minio;
using Minio.DataModel.Args;
using Modal.Storage.Blobs;
using Modal.Storage.Dicts;
using Modal.Storage.Objects;
using Modal.Storage.Queues;
using Modal.Storage.Volumes;
using Modal.Storage.Infrastructure;
using OpenTelemetry.Instrumentation.AspNetCore;
using StackExchange.Redis;

namespace Modal.Storage.Hosting;

public static class StorageHostingExtensions
{
    /// <summary>Name of the connection string that points at Redis (Dict and Queue).</summary>
    public const string RedisConnectionName = "redis";

    public static WebApplicationBuilder AddStorageServices(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>()
            .BindConfiguration(StorageOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var traceDataOperations = builder.Configuration.GetValue<bool>($"{StorageOptions.SectionName}:{nameof(StorageOptions.TraceDataOperations)}");
        // Every Storage request to Redis is one script: its request span says as much as a span per command would.
        builder.AddRedisClient(RedisConnectionName, redis => redis.DisableTracing |= !traceDataOperations,
            // Replies are read on the thread pool, where the request that waits for them continues, instead of on a
            // dedicated reader thread that hands each one over: one thread wake-up less per Dict or Queue operation.
            redis => redis.SocketManager = SocketManager.ThreadPool);
        if (!traceDataOperations)
        {
            builder.Services.PostConfigure<AspNetCoreTraceInstrumentationOptions>(aspnet =>
            {
                var traced = aspnet.Filter;
                aspnet.Filter = context => !IsDataOperation(context.Request.Path) && (traced is null || traced(context));
            });
        }
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddStorageCredentials();
        builder.Services.AddSingleton<ObjectRegistry>();
        builder.Services.AddSingleton<DictStore>();
        builder.Services.AddSingleton<QueueStore>();

        var s3 = S3ConnectionSettings.Parse(builder.Configuration.GetRequiredConnectionString(S3ConnectionSettings.ConnectionName));
        builder.Services.AddSingleton<IMinioClient>(_ => new MinioClient()
            .WithEndpoint(s3.Endpoint.Host, s3.Endpoint.Port)
            .WithSSL(s3.Endpoint.Scheme == Uri.UriSchemeHttps)
            .WithCredentials(s3.AccessKey, s3.SecretKey)
            .WithRegion(s3.Region)
            .WithHttpClient(new HttpClient(new PartialContentHeadFix { InnerHandler = new SocketsHttpHandler() })
            {
                // Multipart parts of large Volume files are streamed; the SDK's own timeouts apply per request.
                Timeout = Timeout.InfiniteTimeSpan,
            })
            .Build());
        builder.Services.AddHealthChecks().AddCheck<S3BucketsHealthCheck>("s3", tags: ["ready"]);
        builder.Services.AddSingleton<BlobStore>();
        builder.Services.AddSingleton<BlobReferences>();
        builder.Services.AddSingleton<VolumeStore>();
        // Every body is held to the largest JSON request (a Volume commit, a Queue put_many) before a byte is read: a
        // 300 MiB commit once took Storage from 290 MiB to 1.6 GiB for good. Only the blob upload, which streams to a
        // spool file, takes more (its route says so).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = StorageLimits.MaxRequestBytes);

        builder.Services.AddOpenApi();
        return builder;
    }

    /// <summary>
    /// A Dict entry or Queue item request (<c>/v1/dicts/{name}/entry|contains</c>, <c>/v1/queues/{name}/items|get</c>), or a
    /// blob's content (<c>/v1/blobs/{sha256}</c>: a Volume commit of 10,000 files sends 10,000 of them).
    /// </summary>
    public static bool IsDataOperation(PathString path)
    {
        var trimmed = path.Value.AsSpan().TrimStart('/');
        Span<Range> parts = stackalloc Range[6];
        var count = trimmed.Split(parts, '/');
        if (count == 3)
        {
            return trimmed[parts[0]].SequenceEqual("v1") && trimmed[parts[1]].SequenceEqual("blobs") && BlobStore.IsValidHash(trimmed[parts[2]].ToString());
        }
        if (count != 4)
        {
            return false;
        }
        var kind = trimmed[parts[1]];
        var operation = trimmed[parts[3]];
        return trimmed[parts[0]].SequenceEqual("v1")
            && ((kind.SequenceEqual("dicts") && (operation.SequenceEqual("entry") || operation.SequenceEqual("contains")))
                || (kind.SequenceEqual("queues") && (operation.SequenceEqual("items") || operation.SequenceEqual("get"))));
    }

    /// <summary>Creates the service's buckets when they are missing; existing buckets and their objects are left alone.</summary>
    public static async Task EnsureStorageBucketsAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        var s3 = app.Services.GetRequiredService<IMinioClient>();
        foreach (var bucket in app.Services.GetRequiredService<IOptions<StorageOptions>>().Value.AllBuckets)
        {
            if (!await s3.BucketExistsAsync(new BucketExistsArgs().WithBucket(bucket), cancellationToken))
            {
                await s3.MakeBucketAsync(new MakeBucketArgs().WithBucket(bucket), cancellationToken);
            }
        }
    }
}
