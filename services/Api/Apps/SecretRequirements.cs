using System.Net;
using System.Net.Http.Json;
using Modal.Api.Contracts.Secrets;
using Modal.Api.Domain;

namespace Modal.Api.Apps;

/// <summary>
/// Checks at deploy time that the secrets an app's functions name exist in its workspace with their required keys, so
/// a missing one fails the deploy (400 naming the secret and the key) rather than a call much later. Asks the Secrets
/// service for names and key names only; the Api never sees a value.
/// </summary>
public sealed class SecretRequirements(IHttpClientFactory http, SecretCredentials credentials)
{
    public const string SecretsClientName = "secrets";

    /// <summary>Validation errors keyed like the deploy's other errors (<c>functions.{name}.secrets</c>); empty when all is there.</summary>
    public async Task<Dictionary<string, string[]>> FindProblemsAsync(
        Guid workspaceId, IEnumerable<FunctionSignature> functions, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var keysBySecret = new Dictionary<string, IReadOnlyList<string>?>(StringComparer.Ordinal);
        foreach (var function in functions.Where(f => f.Secrets is { Count: > 0 }))
        {
            var problems = new List<string>();
            foreach (var secret in function.Secrets!)
            {
                if (!keysBySecret.TryGetValue(secret.Name, out var keys))
                {
                    keys = keysBySecret[secret.Name] = await KeysOfAsync(workspaceId, secret.Name, cancellationToken);
                }
                if (keys is null)
                {
                    problems.Add($"Secret '{secret.Name}' does not exist in this workspace (create it with `modal secret create {secret.Name} KEY=VALUE`).");
                    continue;
                }
                var missing = (secret.RequiredKeys ?? []).Where(k => !keys.Contains(k, StringComparer.Ordinal)).ToList();
                if (missing.Count > 0)
                {
                    problems.Add($"Secret '{secret.Name}' is missing required key{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing.Select(k => $"'{k}'"))}.");
                }
            }
            if (problems.Count > 0)
            {
                errors[$"functions.{function.Name}.secrets"] = [.. problems];
            }
        }
        return errors;
    }

    /// <summary>The secret's key names; null when the workspace has no such secret.</summary>
    private async Task<IReadOnlyList<string>?> KeysOfAsync(Guid workspaceId, string name, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/v1/secrets/{Uri.EscapeDataString(name)}", UriKind.Relative));
        credentials.Attach(request, workspaceId);
        using var response = await http.CreateClient(SecretsClientName).SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        var secret = await response.Content.ReadFromJsonAsync<SecretInfo>(cancellationToken);
        return secret?.Keys ?? [];
    }
}
