using System.Net;
using Modal;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Secrets;
using Modal.Api.Contracts.Tokens;
using Refit;

namespace SecurityProbesExample;

/// <summary>
/// The container's own credentials, used the way the SDK uses them (<see cref="ModalClient.FromEnvironment"/>): for
/// what a workspace owner keeps to themselves. A 401 or 403 from the platform is a refusal; failing to reach the
/// platform at all is an error (a function must still reach it), never a pass.
/// </summary>
internal static class PlatformProbes
{
    public static async Task<ProbeResult[]> WorkspaceOwnerActionsAsync(ModalClient client, string victimToken, string stopTarget, string secret)
    {
        var deployName = $"deployed-by-a-probe-{Guid.NewGuid():N}"[..30];
        return await Task.WhenAll(
            Try("mint-token", "POST /v1/tokens", async () => $"minted {(await client.Tokens.CreateAsync(new CreateTokenRequest("minted-in-a-container"))).Id}"),
            Try("list-tokens", "GET /v1/tokens", async () => $"listed {(await client.Tokens.ListAsync()).Count} tokens"),
            Try("revoke-token", $"DELETE /v1/tokens/{victimToken}", async () =>
            {
                await client.Tokens.RevokeAsync(victimToken);
                return $"revoked {victimToken}";
            }),
            Try("list-secrets", "GET /v1/secrets", async () => $"listed {(await client.Secrets.ListAsync()).Count} secrets"),
            Try("read-secret", $"GET /v1/secrets/{secret}", async () => $"read {(await client.Secrets.GetAsync(secret)).Name}"),
            Try("replace-secret", $"PUT /v1/secrets/{secret}", async () =>
            {
                await client.Secrets.ReplaceAsync(secret, new SecretValuesRequest(new Dictionary<string, string> { ["REPLACED"] = "by a container" }));
                return "replaced its values";
            }),
            Try("deploy-app", $"PUT /v1/apps/{deployName}", async () => $"deployed {(await client.Apps.DeployAsync(deployName, new DeployAppRequest([]))).Name}"),
            Try("stop-app", $"DELETE /v1/apps/{stopTarget}", async () => $"stopped {(await client.Apps.StopAsync(stopTarget)).Name}"));
    }

    private static async Task<ProbeResult> Try(string name, string target, Func<Task<string>> attempt)
    {
        try
        {
            return ProbeResult.Allowed(name, target, await attempt());
        }
        catch (ApiException e) when (e.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            return ProbeResult.Refused(name, target, $"{(int)e.StatusCode}: {e.Content}");
        }
        catch (Exception e) when (e is ApiException or HttpRequestException or IOException or InvalidOperationException)
        {
            return ProbeResult.Error(name, target, $"{e.GetType().Name}: {e.Message}");
        }
    }
}
