using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Modal.Platform.Tests.Infrastructure;
using Modal.Storage;
using OpenTelemetry.Trace;

namespace Modal.Platform.Tests.Services;

/// <summary>Content-addressed blobs of the Storage service on the real S3 endpoint.</summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class BlobTests
{
    [Theory]
    [InlineData(5 * 1024 * 1024)]
    // Several multipart parts (16 MiB each): the body is read ahead of the S3 upload while earlier parts are sent.
    [InlineData(40 * 1024 * 1024 + 123)]
    public async Task PutThenGet_SingleAndSeveralParts_RoundTripsByteForByte(int size)
    {
        await using var storage = new ServiceFactory<StorageOptions>();
        var client = WorkspaceClient(storage);
        var content = RandomNumberGenerator.GetBytes(size);
        var hash = Hash(content);

        using var put = await client.PutAsync(BlobUri(hash), new ByteArrayContent(content));
        var fetched = await client.GetByteArrayAsync(BlobUri(hash));

        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal(content, fetched);
    }

    [Fact]
    public async Task Put_ContentNotMatchingItsHash_Returns400AndStoresNothing()
    {
        await using var storage = new ServiceFactory<StorageOptions>();
        var client = WorkspaceClient(storage);
        var claimed = Hash(RandomNumberGenerator.GetBytes(16));

        using var put = await client.PutAsync(BlobUri(claimed), new ByteArrayContent(RandomNumberGenerator.GetBytes(16)));
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, BlobUri(claimed)));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Theory]
    // Streamed to S3 (12 MiB), and read ahead of a multipart upload (40 MiB): the mismatch, known at the last byte, must
    // stop the upload before S3 completes the object.
    [InlineData(12 * 1024 * 1024)]
    [InlineData(40 * 1024 * 1024)]
    public async Task Put_LargeContentWithWrongLastByte_Returns400AndStoresNothing(int size)
    {
        await using var storage = new ServiceFactory<StorageOptions>();
        var client = WorkspaceClient(storage);
        var content = RandomNumberGenerator.GetBytes(size);
        var claimed = Hash(content);
        content[^1] ^= 0xff;

        using var put = await client.PutAsync(BlobUri(claimed), new ByteArrayContent(content));
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, BlobUri(claimed)));

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Fact]
    public async Task Get_LargeBlobWithRedirectAccepted_RedirectsToPresignedS3UrlThatServesRanges()
    {
        await using var storage = new ServiceFactory<StorageOptions>(("Storage:PresignedReads", "true"));
        var client = WorkspaceClient(storage);
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        (await client.PutAsync(BlobUri(Hash(content)), new ByteArrayContent(content))).EnsureSuccessStatusCode();

        using var request = new HttpRequestMessage(HttpMethod.Get, BlobUri(Hash(content)));
        request.Headers.Add("Modal-Accept-Redirect", "presigned");
        using var redirect = await client.SendAsync(request);
        using var s3 = new HttpClient();
        using var ranged = new HttpRequestMessage(HttpMethod.Get, redirect.Headers.Location);
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1000, 1999);
        using var fromS3 = await s3.SendAsync(ranged);
        var streamed = await client.GetByteArrayAsync(BlobUri(Hash(content)));

        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
        Assert.Equal(HttpStatusCode.PartialContent, fromS3.StatusCode);
        Assert.Equal(content[1000..2000], await fromS3.Content.ReadAsByteArrayAsync());
        // A client that does not ask for the redirect gets the bytes from Storage as before.
        Assert.Equal(content, streamed);
    }

    [Fact]
    public async Task Get_PresignedReadsOff_StreamsThroughStorageEvenWhenRedirectAccepted()
    {
        await using var storage = new ServiceFactory<StorageOptions>(("Storage:PresignedReads", "false"));
        var client = WorkspaceClient(storage);
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        (await client.PutAsync(BlobUri(Hash(content)), new ByteArrayContent(content))).EnsureSuccessStatusCode();

        using var request = new HttpRequestMessage(HttpMethod.Get, BlobUri(Hash(content)));
        request.Headers.Add("Modal-Accept-Redirect", "presigned");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Missing_MixOfStoredAndNew_ListsOnlyTheNewOnes()
    {
        await using var storage = new ServiceFactory<StorageOptions>();
        var client = WorkspaceClient(storage);
        var stored = RandomNumberGenerator.GetBytes(100);
        (await client.PutAsync(BlobUri(Hash(stored)), new ByteArrayContent(stored))).EnsureSuccessStatusCode();
        var unknown = Hash(RandomNumberGenerator.GetBytes(100));

        using var response = await client.PostAsJsonAsync(new Uri("/v1/blobs/missing", UriKind.Relative), new[] { Hash(stored), unknown });

        Assert.Equal([unknown], (await response.Content.ReadFromJsonAsync<string[]>())!);
    }

    [Theory]
    [InlineData("not-a-hash")]
    [InlineData("ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789")]
    public async Task Get_InvalidHash_Returns400ProblemNamingIt(string hash)
    {
        await using var storage = new ServiceFactory<StorageOptions>();

        using var response = await WorkspaceClient(storage).GetAsync(BlobUri(hash));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(hash, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_Unknown_Returns404()
    {
        await using var storage = new ServiceFactory<StorageOptions>();

        using var response = await WorkspaceClient(storage).GetAsync(BlobUri(Hash([1, 2, 3])));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Tracing_BlobContentAndItsS3Requests_AreNotRecordedWhileOtherRequestsAre()
    {
        var spans = new List<Activity>();
        // Aspire's sampler: with it, an S3 request under an untraced request would be recorded as a trace of its own.
        await using var storage = new ServiceFactory<StorageOptions>(("OTEL_TRACES_SAMPLER", "always_on"))
        {
            ConfigureServices = services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(new LockedList(spans))),
        };
        var client = WorkspaceClient(storage);
        // Over 1 MiB: the put asks S3 whether the blob exists before it uploads, so both requests go to S3.
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        var unknown = Hash(RandomNumberGenerator.GetBytes(16));

        (await client.PutAsync(BlobUri(Hash(content)), new ByteArrayContent(content))).EnsureSuccessStatusCode();
        Assert.Equal(content, await client.GetByteArrayAsync(BlobUri(Hash(content))));
        // Traced, with an S3 request under it (the unknown blob is looked up).
        (await client.PostAsJsonAsync(new Uri("/v1/blobs/missing", UriKind.Relative), new[] { unknown })).EnsureSuccessStatusCode();
        // A server span is exported when its request ends, which may be just after the client has the answer.
        var recorded = await Eventually.ReturnsAsync(() =>
        {
            lock (spans)
            {
                return Task.FromResult(spans.ToList());
            }
        }, list => list.Any(span => span.DisplayName == "POST /v1/blobs/missing"), "the lookup's span is recorded", TimeSpan.FromSeconds(20));

        var server = recorded.Where(span => span.Kind == ActivityKind.Server).Select(span => span.DisplayName).ToList();
        var s3 = recorded.Where(span => span.Kind == ActivityKind.Client).ToList();
        Assert.Equal(["POST /v1/blobs/missing"], server);
        Assert.NotEmpty(s3);
        Assert.All(s3, span => Assert.Equal(recorded.Single(r => r.DisplayName == "POST /v1/blobs/missing").TraceId, span.TraceId));
    }

    [Fact]
    public async Task Blobs_WithoutACredential_Return401AndStoreNothing()
    {
        await using var storage = new ServiceFactory<StorageOptions>();
        var owner = WorkspaceClient(storage);
        var content = RandomNumberGenerator.GetBytes(64);
        var hash = Hash(content);
        (await owner.PutAsync(BlobUri(hash), new ByteArrayContent(content))).EnsureSuccessStatusCode();
        var anonymous = storage.CreateClient();
        // A bare workspace header is no credential when Storage checks them.
        anonymous.DefaultRequestHeaders.Add(Modal.Api.Contracts.ApiHeaders.WorkspaceId, Guid.NewGuid().ToString());

        using var get = await anonymous.GetAsync(BlobUri(hash));
        using var head = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, BlobUri(hash)));
        using var put = await anonymous.PutAsync(BlobUri(Hash([7])), new ByteArrayContent([7]));
        using var missing = await anonymous.PostAsJsonAsync(new Uri("/v1/blobs/missing", UriKind.Relative), new[] { hash });

        Assert.All([get, head, put, missing], response => Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode));
        using var ownerMissing = await owner.PostAsJsonAsync(new Uri("/v1/blobs/missing", UriKind.Relative), new[] { Hash([7]) });
        Assert.Equal([Hash([7])], await ownerMissing.Content.ReadFromJsonAsync<string[]>() ?? []);
    }

    [Fact]
    public async Task Blob_OfAnotherWorkspace_IsNotFoundUntilThatWorkspaceUploadsTheBytesItself()
    {
        await using var storage = new ServiceFactory<StorageOptions>();
        var owner = WorkspaceClient(storage);
        var other = WorkspaceClient(storage);
        var content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024);
        var hash = Hash(content);
        (await owner.PutAsync(BlobUri(hash), new ByteArrayContent(content))).EnsureSuccessStatusCode();

        // Knowing the hash is not enough: not readable, not listed as held, and claiming it with other bytes fails.
        using var get = await other.GetAsync(BlobUri(hash));
        using var head = await other.SendAsync(new HttpRequestMessage(HttpMethod.Head, BlobUri(hash)));
        var missing = await (await other.PostAsJsonAsync(new Uri("/v1/blobs/missing", UriKind.Relative), new[] { hash })).Content.ReadFromJsonAsync<string[]>() ?? [];
        var forged = RandomNumberGenerator.GetBytes(content.Length);
        using var claim = await other.PutAsync(BlobUri(hash), new ByteArrayContent(forged));
        using var afterClaim = await other.GetAsync(BlobUri(hash));
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.Equal([hash], missing);
        Assert.Equal(HttpStatusCode.BadRequest, claim.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, afterClaim.StatusCode);

        // Nor can it be read back through a Volume that names it.
        (await other.PutAsync(new Uri("/v1/volumes/borrowed", UriKind.Relative), null)).EnsureSuccessStatusCode();
        using var commit = await other.PostAsJsonAsync(new Uri("/v1/volumes/borrowed/commit", UriKind.Relative),
            new Modal.Api.Contracts.Volumes.VolumeCommitRequest([new("stolen.bin", hash)], null));
        Assert.Equal(HttpStatusCode.BadRequest, commit.StatusCode);

        // Sending the bytes themselves makes it the other workspace's too (stored once).
        (await other.PutAsync(BlobUri(hash), new ByteArrayContent(content))).EnsureSuccessStatusCode();
        Assert.Equal(content, await other.GetByteArrayAsync(BlobUri(hash)));
    }

    /// <summary>A client of <paramref name="storage"/> acting for a workspace of its own, with a Storage credential; it follows no redirects.</summary>
    private static HttpClient WorkspaceClient(ServiceFactory<StorageOptions> storage) =>
        storage.CreateDefaultClient(new WorkspaceSigningHandler(TestSecretKeys.StorageCredentials(), Guid.NewGuid()));

    private static Uri BlobUri(string hash) => new($"/v1/blobs/{hash}", UriKind.Relative);

    private static string Hash(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));
}
