using Microsoft.AspNetCore.Mvc;
using Yarp.ReverseProxy.Transforms;

namespace Modal.Api.Endpoints;

public static class BlobProxyEndpoints
{
    /// <summary>Largest blob a client may upload through the Api (a bundle file such as libtorch is ~440 MB).</summary>
    public const long MaxBlobBytes = 4L * 1024 * 1024 * 1024;

    /// <summary>
    /// <c>/v1/blobs/…</c> — the Storage service's content-addressed blobs, for clients (bundle uploads by
    /// <c>modal deploy</c>). Authenticated here, then streamed through to Storage by YARP without the caller's token.
    /// </summary>
    public static RouteGroupBuilder MapBlobProxyEndpoints(this RouteGroupBuilder v1, Uri storageUrl)
    {
        v1.MapForwarder("/blobs/{**rest}", storageUrl.ToString(), transforms =>
            {
                transforms.AddRequestHeaderRemove("Authorization");
                transforms.AddRequestHeaderRemove("Modal-Token-Id");
                transforms.AddRequestHeaderRemove("Modal-Token-Secret");
            })
            .WithMetadata(new RequestSizeLimitAttribute(MaxBlobBytes))
            .WithTags("Blobs");
        return v1;
    }
}
