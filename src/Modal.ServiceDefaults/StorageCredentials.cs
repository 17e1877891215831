using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Modal.Api.Contracts;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Settings shared by the Api (which issues storage credentials), Storage (which checks them) and runners (which issue
/// their own for the Volumes they mount): section <c>StorageCredentials</c>. The AppHost generates the key into the
/// install's keys; the tests set one of their own.
/// </summary>
public sealed class StorageCredentialOptions
{
    public const string SectionName = "StorageCredentials";

    /// <summary>
    /// Base64 HMAC-SHA256 key (at least 32 bytes). Empty: no credentials are issued and Storage trusts
    /// <see cref="WorkspaceHeader"/> (Storage then must be reachable by platform services only).
    /// </summary>
    public string? Key { get; set; }

    /// <summary>How long an issued credential is valid. Short, because a credential cannot be revoked before it expires.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>
/// A workspace-scoped, short-lived credential for Storage: <c>v1.{workspace id}.{expiry unix seconds}.{HMAC}</c>. It lets a
/// client talk to Storage directly (one HTTP hop instead of two through the Api) while Storage still knows, without
/// asking anyone, which workspace the request acts for. Nothing in it is secret but the signature; it only names the
/// workspace and the expiry, both covered by the HMAC, so changing either invalidates it.
/// </summary>
public sealed class StorageCredentials
{
    /// <summary>Request header carrying the credential, to Storage.</summary>
    public const string HeaderName = ApiHeaders.StorageCredential;

    private const string Version = "v1";
    private readonly byte[]? _key;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _clock;

    public StorageCredentials(Microsoft.Extensions.Options.IOptions<StorageCredentialOptions> options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _clock = clock;
        _lifetime = options.Value.Lifetime;
        if (!string.IsNullOrWhiteSpace(options.Value.Key))
        {
            _key = Convert.FromBase64String(options.Value.Key);
            if (_key.Length < 32)
            {
                throw new InvalidOperationException($"{StorageCredentialOptions.SectionName}:Key must be at least 32 bytes (base64).");
            }
        }
    }

    /// <summary>Whether a key is configured (credentials are issued and required).</summary>
    public bool Enabled => _key is not null;

    /// <summary>A credential for <paramref name="workspaceId"/>, valid for the configured lifetime.</summary>
    public (string Credential, DateTimeOffset ExpiresAt) Issue(Guid workspaceId)
    {
        var expiresAt = _clock.GetUtcNow() + _lifetime;
        return (Issue(workspaceId, expiresAt), expiresAt);
    }

    /// <summary>A credential for <paramref name="workspaceId"/> valid until <paramref name="expiresAt"/>.</summary>
    public string Issue(Guid workspaceId, DateTimeOffset expiresAt)
    {
        var key = _key ?? throw new InvalidOperationException($"No {StorageCredentialOptions.SectionName}:Key is configured.");
        var payload = $"{Version}.{workspaceId:N}.{expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}";
        return $"{payload}.{Base64Url.EncodeToString(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(payload)))}";
    }

    /// <summary>The workspace <paramref name="credential"/> was issued for, or null when it is malformed, forged or expired.</summary>
    public Guid? Validate(string? credential)
    {
        if (_key is null || string.IsNullOrEmpty(credential) || credential.Length > 200)
        {
            return null;
        }
        var signatureStart = credential.LastIndexOf('.');
        if (signatureStart < 0)
        {
            return null;
        }
        var payload = credential.AsSpan(0, signatureStart);
        Span<byte> expected = stackalloc byte[32];
        Span<byte> presented = stackalloc byte[64];
        HMACSHA256.HashData(_key, Encoding.ASCII.GetBytes(payload.ToString()), expected);
        if (!Base64Url.TryDecodeFromChars(credential.AsSpan(signatureStart + 1), presented, out var presentedLength)
            || !CryptographicOperations.FixedTimeEquals(expected, presented[..presentedLength]))
        {
            return null;
        }
        // Signed, so the parts are ours; still parse defensively.
        var parts = payload.ToString().Split('.');
        if (parts.Length != 3 || parts[0] != Version
            || !Guid.TryParseExact(parts[1], "N", out var workspaceId) || workspaceId == Guid.Empty
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expiry)
            || _clock.GetUtcNow().ToUnixTimeSeconds() >= expiry)
        {
            return null;
        }
        return workspaceId;
    }

    /// <summary>The workspace of the request's <see cref="HeaderName"/> credential, or null.</summary>
    public Guid? Validate(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Validate(context.Request.Headers[HeaderName].ToString());
    }
}

public static class StorageCredentialExtensions
{
    /// <summary>Registers <see cref="StorageCredentials"/> with its options (section <c>StorageCredentials</c>).</summary>
    public static IServiceCollection AddStorageCredentials(this IServiceCollection services)
    {
        services.AddOptions<StorageCredentialOptions>().BindConfiguration(StorageCredentialOptions.SectionName);
        services.AddSingleton<StorageCredentials>(provider => new(
            provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<StorageCredentialOptions>>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System));
        return services;
    }
}
