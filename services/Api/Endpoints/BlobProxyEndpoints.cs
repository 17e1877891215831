using Microsoft.AspNetCore.Mvc;
using Modal.Api.Authentication;
using Modal.Api.Contracts;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Modal.Api.Endpoints;

public static class BlobProxyEndpoints
{
    /// <summary>
    /// What the Api forwards to Storage, streamed through by YARP without the caller's token and with a Storage credential
    /// of the token's workspace (a client-sent workspace header or credential is dropped), so each workspace sees only its
    /// own objects: <c>/v1/blobs/…</c>, the content-addressed blobs (bundle uploads by <c>modal deploy</c>, large call
    /// payloads; Storage serves a workspace only the blobs it uploaded), and <c>/v1/dicts/…</c>, <c>/v1/queues/…</c> and
    /// <c>/v1/volumes/…</c>, Storage's Dicts, Queues and Volumes.
    /// </summary>
    public static RouteGroupBuilder MapStorageProxyEndpoints(this RouteGroupBuilder v1, Uri storageUrl)
    {
        var credentials = ((IEndpointRouteBuilder)v1).ServiceProvider.GetRequiredService<StorageCredentials>();
        v1.MapWorkspaceForwarder("blobs", storageUrl, "Blobs", credentials)
            .WithMetadata(new RequestSizeLimitAttribute(ApiLimits.MaxBlobBytes));
        v1.MapWorkspaceForwarder("dicts", storageUrl, "Dicts", credentials);
        v1.MapWorkspaceForwarder("queues", storageUrl, "Queues", credentials);
        v1.MapWorkspaceForwarder("volumes", storageUrl, "Volumes", credentials);
        return v1;
    }

    /// <summary>
    /// <c>/v1/secrets/…</c> — the Secrets service's named secrets, forwarded as Dicts are (workspace from the token), each
    /// request signed with a <see cref="SecretCredentials"/> credential: a Storage credential does not open the Secrets service.
    /// Only this public surface is forwarded: it takes values in and answers names and key names. The Secrets service's
    /// <c>/internal</c> routes, the only ones that return values, are for runners and never reachable through the Api.
    /// Workspace tokens only: a function gets the secrets its app declared, in its environment, and no others.
    /// </summary>
    public static RouteGroupBuilder MapSecretProxyEndpoints(this RouteGroupBuilder v1, Uri secretsUrl)
    {
        var credentials = ((IEndpointRouteBuilder)v1).ServiceProvider.GetRequiredService<SecretCredentials>();
        v1.MapWorkspaceForwarder("secrets", secretsUrl, "Secrets", credentials).RequireAuthorization(ApiPolicies.ManageSecrets);
        return v1;
    }

    /// <summary>
    /// Forwards <c>/{resource}/…</c> naming the token's workspace with <paramref name="credentials"/> (a client-sent
    /// workspace header or credential is dropped): the services behind, given a key, trust only the credential.
    /// </summary>
    private static IEndpointConventionBuilder MapWorkspaceForwarder(
        this RouteGroupBuilder v1, string resource, Uri destination, string tag, WorkspaceCredentials credentials)
    {
        return v1.MapForwarder($"/{resource}/{{**rest}}", destination.ToString(), transforms =>
            {
                transforms.RemoveCallerCredentials();
                // A client-sent credential of either kind never travels on: only the one signed here does.
                transforms.AddRequestHeaderRemove(StorageCredentials.HeaderName);
                transforms.AddRequestHeaderRemove(SecretCredentials.HeaderName);
                transforms.AddRequestTransform(context =>
                {
                    credentials.Attach(context.ProxyRequest, context.HttpContext.User.WorkspaceId());
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
