using Microsoft.AspNetCore.Mvc;
using Modal.Api.Authentication;
using Modal.Api.Contracts;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Modal.Api.Endpoints;

public static class BlobProxyEndpoints
{
    /// <summary>
    /// What the Api forwards to Storage. <c>/v1/blobs/…</c>: the content-addressed blobs, for clients (bundle uploads by
    /// <c>modal deploy</c>), authenticated here, then streamed through by YARP without the caller's token.
    /// <c>/v1/dicts/…</c>, <c>/v1/queues/…</c> and <c>/v1/volumes/…</c>: Storage's Dicts, Queues and Volumes, forwarded
    /// without the caller's token and with <see cref="ApiHeaders.WorkspaceId"/> set from the token's workspace (a
    /// client-sent one is dropped), so each workspace sees only its own objects.
    /// </summary>
    public static RouteGroupBuilder MapStorageProxyEndpoints(this RouteGroupBuilder v1, Uri storageUrl)
    {
        v1.MapForwarder("/blobs/{**rest}", storageUrl.ToString(), transforms => transforms.RemoveCallerCredentials())
            .WithMetadata(new RequestSizeLimitAttribute(ApiLimits.MaxBlobBytes))
            .WithTags("Blobs");
        v1.MapWorkspaceForwarder("dicts", storageUrl, "Dicts", toStorage: true);
        v1.MapWorkspaceForwarder("queues", storageUrl, "Queues", toStorage: true);
        v1.MapWorkspaceForwarder("volumes", storageUrl, "Volumes", toStorage: true);
        return v1;
    }

    /// <summary>
    /// <c>/v1/secrets/…</c> — the Secrets service's named secrets, forwarded as Dicts are (workspace from the token).
    /// Only this public surface is forwarded: it takes values in and answers names and key names. The Secrets service's
    /// <c>/internal</c> routes, the only ones that return values, are for runners and never reachable through the Api.
    /// Workspace tokens only: a function gets the secrets its app declared, in its environment, and no others.
    /// </summary>
    public static RouteGroupBuilder MapSecretProxyEndpoints(this RouteGroupBuilder v1, Uri secretsUrl)
    {
        v1.MapWorkspaceForwarder("secrets", secretsUrl, "Secrets", toStorage: false).RequireAuthorization(ApiPolicies.ManageSecrets);
        return v1;
    }

    private static IEndpointConventionBuilder MapWorkspaceForwarder(this RouteGroupBuilder v1, string resource, Uri destination, string tag, bool toStorage)
    {
        var credentials = ((IEndpointRouteBuilder)v1).ServiceProvider.GetRequiredService<StorageCredentials>();
        return v1.MapForwarder($"/{resource}/{{**rest}}", destination.ToString(), transforms =>
            {
                transforms.RemoveCallerCredentials();
                transforms.AddRequestTransform(context =>
                {
                    context.ProxyRequest.Headers.Remove(ApiHeaders.WorkspaceId);
                    var workspaceId = context.HttpContext.User.WorkspaceId();
                    context.ProxyRequest.Headers.Add(ApiHeaders.WorkspaceId, workspaceId.ToString());
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
    }

    private static void RemoveCallerCredentials(this TransformBuilderContext transforms)
    {
        transforms.AddRequestHeaderRemove("Authorization");
        transforms.AddRequestHeaderRemove(TokenCredentials.TokenIdHeader);
        transforms.AddRequestHeaderRemove(TokenCredentials.TokenSecretHeader);
    }
}
