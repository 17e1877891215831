using Microsoft.AspNetCore.Mvc;
using Modal.Api.Authentication;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Modal.Api.Endpoints;

public static class BlobProxyEndpoints
{
    /// <summary>Largest blob a client may upload through the Api (a bundle file such as libtorch is ~440 MB).</summary>
    public const long MaxBlobBytes = 4L * 1024 * 1024 * 1024;

    /// <summary>Header naming the caller's workspace to Storage; Storage scopes Dicts, Queues and Volumes by it and trusts only the Api to set it.</summary>
    public const string WorkspaceHeader = "Modal-Workspace-Id";

    /// <summary>
    /// <c>/v1/blobs/…</c> — the Storage service's content-addressed blobs, for clients (bundle uploads by
    /// <c>modal deploy</c>). Authenticated here, then streamed through to Storage by YARP without the caller's token.
    /// </summary>
    public static RouteGroupBuilder MapBlobProxyEndpoints(this RouteGroupBuilder v1, Uri storageUrl)
    {
        v1.MapForwarder("/blobs/{**rest}", storageUrl.ToString(), transforms => transforms.RemoveCallerCredentials())
            .WithMetadata(new RequestSizeLimitAttribute(MaxBlobBytes))
            .WithTags("Blobs");
        return v1;
    }

    /// <summary>
    /// <c>/v1/dicts/…</c>, <c>/v1/queues/…</c> and <c>/v1/volumes/…</c> — Storage's Dicts, Queues and Volumes. Authenticated here, forwarded without
    /// the caller's token and with <see cref="WorkspaceHeader"/> set from the token's workspace (a client-sent one is
    /// dropped), so each workspace sees only its own objects.
    /// </summary>
    public static RouteGroupBuilder MapDictAndQueueProxyEndpoints(this RouteGroupBuilder v1, Uri storageUrl) =>
        v1.MapWorkspaceForwarder("dicts", storageUrl, "Dicts", toStorage: true).MapWorkspaceForwarder("queues", storageUrl, "Queues", toStorage: true)
            .MapWorkspaceForwarder("volumes", storageUrl, "Volumes", toStorage: true);

    /// <summary>
    /// <c>/v1/secrets/…</c> — the Secrets service's named secrets, forwarded as Dicts are (workspace from the token).
    /// Only this public surface is forwarded: it takes values in and answers names and key names. The Secrets service's
    /// <c>/internal</c> routes, the only ones that return values, are for runners and never reachable through the Api.
    /// </summary>
    public static RouteGroupBuilder MapSecretProxyEndpoints(this RouteGroupBuilder v1, Uri secretsUrl) =>
        v1.MapWorkspaceForwarder("secrets", secretsUrl, "Secrets", toStorage: false);

    private static RouteGroupBuilder MapWorkspaceForwarder(this RouteGroupBuilder v1, string resource, Uri destination, string tag, bool toStorage)
    {
        var credentials = ((IEndpointRouteBuilder)v1).ServiceProvider.GetRequiredService<StorageCredentials>();
        v1.MapForwarder($"/{resource}/{{**rest}}", destination.ToString(), transforms =>
            {
                transforms.RemoveCallerCredentials();
                transforms.AddRequestTransform(context =>
                {
                    context.ProxyRequest.Headers.Remove(WorkspaceHeader);
                    var workspaceId = context.HttpContext.User.WorkspaceId();
                    context.ProxyRequest.Headers.Add(WorkspaceHeader, workspaceId.ToString());
                    context.ProxyRequest.Headers.Remove(StorageCredentials.HeaderName);
                    if (toStorage && credentials.Enabled)
                    {
                        // Storage with a key trusts only credentials, not the header: a client can reach it directly.
                        context.ProxyRequest.Headers.Add(StorageCredentials.HeaderName, credentials.Issue(workspaceId).Credential);
                    }
                    return ValueTask.CompletedTask;
                });
            })
            .WithTags(tag);
        return v1;
    }

    private static void RemoveCallerCredentials(this TransformBuilderContext transforms)
    {
        transforms.AddRequestHeaderRemove("Authorization");
        transforms.AddRequestHeaderRemove(TokenCredentials.TokenIdHeader);
        transforms.AddRequestHeaderRemove(TokenCredentials.TokenSecretHeader);
    }
}
