using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Settings shared by the Api (which issues storage credentials), Storage (which checks them) and runners (which issue
/// their own for the Volumes they mount): section <c>StorageCredentials</c>. The AppHost generates the key into the
/// install's keys; the tests set one of their own.
/// </summary>
public sealed class StorageCredentialOptions : WorkspaceCredentialOptions
{
    public const string SectionName = "StorageCredentials";
}

/// <summary>
/// The workspace credential for Storage, <c>v1.{workspace id}.{expiry}.{HMAC}</c>. It lets a client talk to Storage
/// directly (one HTTP hop instead of two through the Api); it reaches Dicts, Queues and Volumes only, never secrets.
/// </summary>
public sealed class StorageCredentials(IOptions<StorageCredentialOptions> options, TimeProvider clock)
    : WorkspaceCredentials(Purpose, HeaderName, StorageCredentialOptions.SectionName, options?.Value!, clock)
{
    /// <summary>Request header carrying the credential, to Storage.</summary>
    public const string HeaderName = ApiHeaders.StorageCredential;

    // "v1" from before credentials had purposes: Storage credentials already handed out stay valid.
    private const string Purpose = "v1";
}

public static class StorageCredentialExtensions
{
    /// <summary>Registers <see cref="StorageCredentials"/> with its options (section <c>StorageCredentials</c>).</summary>
    public static IServiceCollection AddStorageCredentials(this IServiceCollection services) =>
        services.AddWorkspaceCredentials<StorageCredentialOptions, StorageCredentials>(StorageCredentialOptions.SectionName, (options, clock) => new(options, clock));
}
