using System.Net;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Storage;
using Modal.Container.Protocol;
using Modal.Rest;
using Refit;

namespace Modal;

/// <summary>
/// Sends Dict, Queue and Volume requests straight to Storage with a workspace credential from the Api
/// (<see cref="IStorageAccessApi"/>), one HTTP hop instead of two, and through the Api when the install offers no direct
/// path or Storage cannot be reached. The credential is renewed before it expires. Reads of Volume files and blobs offer to
/// follow a redirect to a presigned S3 URL, which Storage gives for large ones: the bytes then come from S3 directly.
/// The REST clients above it see the Api's addresses and ordinary answers either way: this handler only changes where a
/// request goes and how it is authenticated.
/// </summary>
internal sealed class DirectStorageRouter : HttpMessageHandler
{
    /// <summary>Renew this long before the credential expires, so no request carries one that is about to lapse.</summary>
    private static readonly TimeSpan RenewalMargin = TimeSpan.FromMinutes(2);

    /// <summary>After the Api said no (or Storage was unreachable), ask again only after this long.</summary>
    private static readonly TimeSpan RetryDirectAfter = TimeSpan.FromMinutes(5);

    private readonly HttpClient _api;
    private readonly HttpMessageInvoker _storage;
    private readonly HttpMessageInvoker _s3 = new(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2) });

    /// <summary>
    /// Inside a container the platform is reached only through the runner's socket, which forwards to the Api and Storage
    /// and to no S3 endpoint: reads are not offered presigned redirects there.
    /// </summary>
    private readonly bool _throughPlatformSocket = PlatformConnection.SocketPath is not null;
    private DateTimeOffset _s3UnreachableUntil = DateTimeOffset.MinValue;
    private readonly IStorageAccessApi _access;
    private readonly SemaphoreSlim _renewal = new(1, 1);
    private volatile Route _route = Route.Unknown;

    public DirectStorageRouter(HttpClient api, HttpMessageHandler? storageHandler)
    {
        _api = api;
        // Redirects are followed by this class, not the handler: a handler would carry the storage credential to S3.
        _storage = new HttpMessageInvoker(storageHandler ?? PlatformConnection.CreateHandler(allowAutoRedirect: false),
            disposeHandler: storageHandler is null);
        _access = RestService.For<IStorageAccessApi>(api);
    }

    /// <summary>Whether the last request went to Storage directly (for tests and diagnostics).</summary>
    public bool LastWentDirect { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_throughPlatformSocket || !IsRedirectableRead(request) || DateTimeOffset.UtcNow < _s3UnreachableUntil)
        {
            return await SendRoutedAsync(request, cancellationToken).ConfigureAwait(false);
        }
        var retry = Copy(request);
        request.Headers.Add(ApiHeaders.AcceptRedirect, ApiHeaders.AcceptRedirectPresigned);
        var response = await SendRoutedAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.TemporaryRedirect || response.Headers.Location is not { IsAbsoluteUri: true } location)
        {
            retry.Dispose();
            return response;
        }
        response.Dispose();
        using var fromS3 = new HttpRequestMessage(HttpMethod.Get, location);
        if (request.Headers.Range is { } range)
        {
            fromS3.Headers.Range = range;
        }
        try
        {
            var s3Response = await _s3.SendAsync(fromS3, cancellationToken).ConfigureAwait(false);
            retry.Dispose();
            return s3Response;
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            // S3 is not reachable from here at the address Storage signs for: read through Storage for a while.
            _s3UnreachableUntil = DateTimeOffset.UtcNow + RetryDirectAfter;
            return await SendRoutedAsync(retry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A GET of a Volume file (<c>/v1/volumes/{name}/file</c>) or a blob (<c>/v1/blobs/{hash}</c>).</summary>
    private static bool IsRedirectableRead(HttpRequestMessage request)
    {
        if (request.Method != HttpMethod.Get || request.RequestUri is not { } uri)
        {
            return false;
        }
        var path = uri.AbsolutePath;
        return (path.StartsWith("/v1/volumes/", StringComparison.Ordinal) && path.EndsWith("/file", StringComparison.Ordinal))
            || (path.StartsWith("/v1/blobs/", StringComparison.Ordinal) && path.Length == "/v1/blobs/".Length + 64);
    }

    private async Task<HttpResponseMessage> SendRoutedAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var route = await CurrentRouteAsync(cancellationToken).ConfigureAwait(false);
        if (route.Access is { } access)
        {
            var apiUri = request.RequestUri!;
            request.RequestUri = new Uri(access.StorageUrl, apiUri.PathAndQuery);
            request.Headers.Authorization = null;
            request.Headers.Remove(ApiHeaders.StorageCredential);
            request.Headers.Add(ApiHeaders.StorageCredential, access.Credential);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_api.Timeout);
                var response = await _storage.SendAsync(request, timeout.Token).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.MisdirectedRequest)
                {
                    // The runner's platform socket does not know Storage's address (GpuRunner:StoragePublicUrl unset)
                    // and did not forward the request: use the Api for a while, as when Storage is unreachable.
                    response.Dispose();
                    throw new HttpRequestException(HttpRequestError.ConnectionError, "The platform socket does not forward to Storage's address.");
                }
                LastWentDirect = true;
                if (response.StatusCode == HttpStatusCode.Unauthorized)
                {
                    // Storage's key changed or the clocks disagree: the next request asks for a new credential.
                    _route = Route.Unknown;
                }
                return response;
            }
            catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
            {
                // Nothing was sent (the connection failed), so the Api may still take the request. Storage's advertised
                // address is not reachable from here (e.g. a container without network): use the Api for a while.
                _route = Route.ThroughApiUntil(DateTimeOffset.UtcNow + RetryDirectAfter);
                request.RequestUri = apiUri;
                request.Headers.Remove(ApiHeaders.StorageCredential);
            }
        }
        LastWentDirect = false;
        // The Api's client, with its token and handler, buffers nothing here: callers streaming a file get it streamed.
        return await _api.SendAsync(Copy(request), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _storage.Dispose();
            _s3.Dispose();
            _renewal.Dispose();
        }
        base.Dispose(disposing);
    }

    private async ValueTask<Route> CurrentRouteAsync(CancellationToken cancellationToken)
    {
        var route = _route;
        if (route.IsCurrent(DateTimeOffset.UtcNow))
        {
            return route;
        }
        await _renewal.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            route = _route;
            if (route.IsCurrent(DateTimeOffset.UtcNow))
            {
                return route;
            }
            try
            {
                var access = await _access.IssueCredentialAsync(cancellationToken).ConfigureAwait(false);
                route = Route.Direct(access, access.ExpiresAt - RenewalMargin);
            }
            catch (ApiException e) when (e.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
            {
                // This install (or an older Api) offers no direct path.
                route = Route.ThroughApiUntil(DateTimeOffset.UtcNow + RetryDirectAfter);
            }
            _route = route;
            return route;
        }
        finally
        {
            _renewal.Release();
        }
    }

    /// <summary>
    /// A request message is sent once per <see cref="HttpClient"/>; the Api's client (with its token and handler) gets a
    /// copy sharing the same, not yet read, content.
    /// </summary>
    private static HttpRequestMessage Copy(HttpRequestMessage request)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri)
        {
            Content = request.Content,
            Version = request.Version,
            VersionPolicy = request.VersionPolicy,
        };
        foreach (var (name, values) in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(name, values);
        }
        foreach (var option in request.Options)
        {
            ((IDictionary<string, object?>)copy.Options)[option.Key] = option.Value;
        }
        return copy;
    }

    private sealed record Route(StorageAccess? Access, DateTimeOffset ValidUntil)
    {
        public static readonly Route Unknown = new(null, DateTimeOffset.MinValue);

        public static Route Direct(StorageAccess access, DateTimeOffset renewAt) => new(access, renewAt);

        public static Route ThroughApiUntil(DateTimeOffset until) => new(null, until);

        public bool IsCurrent(DateTimeOffset now) => now < ValidUntil;
    }
}
