using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts;
using Modal.Api.Contracts.Secrets;
using Modal.Contracts.Apps;

namespace Modal.GpuRunner.Secrets;

/// <summary>
/// Reads the values of a function's secrets from the Secrets service when a container starts, presenting this runner's
/// credential (<see cref="GpuRunnerOptions.RunnerKey"/>). Values live only in the container's environment: they are
/// not cached, logged or put on the bus.
/// </summary>
public sealed class ContainerSecrets(IHttpClientFactory http, IOptions<GpuRunnerOptions> options)
{
    public const string SecretsClientName = "secrets";

    /// <summary>The secrets' values as environment variables (a later secret wins on a shared key).</summary>
    /// <exception cref="ContainerSecretsException">A secret or required key is missing, or this runner may not read secrets.</exception>
    /// <exception cref="HttpRequestException">The Secrets service could not be reached (transient: the input is delivered again).</exception>
    public async Task<IReadOnlyDictionary<string, string>> ResolveAsync(
        Guid workspaceId, IReadOnlyList<SecretReference> secrets, CancellationToken cancellationToken)
    {
        if (secrets.Count == 0)
        {
            return new Dictionary<string, string>();
        }
        if (options.Value.RunnerKey is not { Length: > 0 } runnerKey)
        {
            throw new ContainerSecretsException(
                "This runner has no GpuRunner:RunnerKey, so it cannot start functions that use secrets.");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/internal/v1/secrets/resolve", UriKind.Relative))
        {
            Content = JsonContent.Create(new ResolveSecretsRequest(workspaceId, secrets.Select(s => new SecretRequirement(s.Name, s.RequiredKeys)).ToList())),
        };
        request.Headers.Add(ApiHeaders.RunnerKey, runnerKey);
        using var response = await http.CreateClient(SecretsClientName).SendAsync(request, cancellationToken);
        switch (response.StatusCode)
        {
            case HttpStatusCode.NotFound or HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest:
                throw new ContainerSecretsException(await ProblemDetailAsync(response, cancellationToken));
            case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                throw new ContainerSecretsException("The Secrets service refused this runner's GpuRunner:RunnerKey.");
        }
        response.EnsureSuccessStatusCode();
        var resolved = await response.Content.ReadFromJsonAsync<ResolvedSecrets>(cancellationToken);
        return resolved?.Environment ?? new Dictionary<string, string>();
    }

    // The Secrets service's problem details name the secret and key, never a value.
    private static async Task<string> ProblemDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            if (problem.ValueKind == JsonValueKind.Object && problem.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
            {
                return detail.GetString()!;
            }
        }
        catch (JsonException)
        {
            // Not a problem document: fall through to the status.
        }
        return $"The Secrets service answered {(int)response.StatusCode}.";
    }
}

/// <summary>A container cannot start because its secrets are not available; the call fails with this message.</summary>
public sealed class ContainerSecretsException(string message) : Exception(message)
{
    /// <summary>The remote exception type a call failed this way reports.</summary>
    public const string RemoteType = RemoteErrorTypes.MissingSecret;
}

public static class ContainerSecretsHostingExtensions
{
    /// <summary>The Secrets service client (base address <see cref="GpuRunnerOptions.SecretsUrl"/>).</summary>
    public static IServiceCollection AddContainerSecrets(this IServiceCollection services)
    {
        services.AddHttpClient(ContainerSecrets.SecretsClientName, (provider, http) =>
            http.BaseAddress = provider.GetRequiredService<IOptions<GpuRunnerOptions>>().Value.SecretsUrl);
        return services.AddSingleton<ContainerSecrets>();
    }
}
