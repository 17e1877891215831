using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Settings shared by the Api (which signs every request it forwards to the Secrets service) and the Secrets service
/// (which checks them): section <c>SecretCredentials</c>. A key of its own, held by these two only: Storage and runners,
/// which hold the Storage key, cannot sign a request to Secrets.
/// </summary>
public sealed class SecretCredentialOptions : WorkspaceCredentialOptions
{
    public const string SectionName = "SecretCredentials";

    /// <summary>One request's worth: the Api issues a fresh credential per forwarded request and never hands one out.</summary>
    public SecretCredentialOptions() => Lifetime = TimeSpan.FromMinutes(1);
}

/// <summary>
/// The workspace credential with which the Api names the caller's workspace to the Secrets service,
/// <c>secrets-v1.{workspace id}.{expiry}.{HMAC}</c>. Its purpose is signed, so a Storage credential (which a container
/// token may obtain) is never one of these, even under the same key.
/// </summary>
public sealed class SecretCredentials(IOptions<SecretCredentialOptions> options, TimeProvider clock)
    : WorkspaceCredentials(Purpose, HeaderName, SecretCredentialOptions.SectionName, options?.Value!, clock)
{
    /// <summary>Request header carrying the credential, to the Secrets service.</summary>
    public const string HeaderName = ApiHeaders.SecretsCredential;

    private const string Purpose = "secrets-v1";
}

public static class SecretCredentialExtensions
{
    /// <summary>Registers <see cref="SecretCredentials"/> with its options (section <c>SecretCredentials</c>).</summary>
    public static IServiceCollection AddSecretCredentials(this IServiceCollection services) =>
        services.AddWorkspaceCredentials<SecretCredentialOptions, SecretCredentials>(SecretCredentialOptions.SectionName, (options, clock) => new(options, clock));
}
