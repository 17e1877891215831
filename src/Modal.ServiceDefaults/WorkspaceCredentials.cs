using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Modal.Api.Contracts;

namespace Microsoft.Extensions.Hosting;

/// <summary>The settings of one kind of <see cref="WorkspaceCredentials"/>, each in a configuration section of its own.</summary>
public abstract class WorkspaceCredentialOptions
{
    /// <summary>
    /// Base64 HMAC-SHA256 key (at least 32 bytes). Empty: no credentials are issued and the checking service trusts
    /// <see cref="WorkspaceHeader"/> (it then must be reachable by platform services only).
    /// </summary>
    public string? Key { get; set; }

    /// <summary>How long an issued credential is valid. Short, because a credential cannot be revoked before it expires.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>
/// Workspace-scoped, short-lived credentials for one service: <c>{purpose}.{workspace id}.{expiry unix seconds}.{HMAC}</c>.
/// The checking service knows, without asking anyone, which workspace a request acts for. Nothing in a credential is
/// secret but the signature; the purpose, the workspace and the expiry are all covered by the HMAC, so changing any of
/// them invalidates it — and a credential issued for one service (purpose) is refused by another even under one key.
/// </summary>
public abstract class WorkspaceCredentials
{
    private readonly string _purpose;
    private readonly string _sectionName;
    private readonly byte[]? _key;
    private readonly TimeSpan _lifetime;
    private readonly TimeProvider _clock;

    /// <param name="purpose">The first, signed part of every credential; no dots.</param>
    /// <param name="header">The request header carrying the credential.</param>
    /// <param name="sectionName">The configuration section of <paramref name="options"/>, for error messages.</param>
    /// <param name="options">The key (none: credentials are neither issued nor required) and the lifetime.</param>
    /// <param name="clock">The clock that sets and checks expiries.</param>
    protected WorkspaceCredentials(string purpose, string header, string sectionName, WorkspaceCredentialOptions options, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (purpose.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException("A credential purpose cannot contain '.'.", nameof(purpose));
        }
        (_purpose, Header, _sectionName, _lifetime, _clock) = (purpose, header, sectionName, options.Lifetime, clock);
        if (!string.IsNullOrWhiteSpace(options.Key))
        {
            _key = Convert.FromBase64String(options.Key);
            if (_key.Length < 32)
            {
                throw new InvalidOperationException($"{sectionName}:Key must be at least 32 bytes (base64).");
            }
        }
    }

    /// <summary>The request header carrying the credential.</summary>
    public string Header { get; }

    /// <summary>How long an issued credential is valid.</summary>
    public TimeSpan Lifetime => _lifetime;

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
        var key = _key ?? throw new InvalidOperationException($"No {_sectionName}:Key is configured.");
        var payload = $"{_purpose}.{workspaceId:N}.{expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)}";
        return $"{payload}.{Base64Url.EncodeToString(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(payload)))}";
    }

    /// <summary>The workspace <paramref name="credential"/> was issued for, or null when it is malformed, forged, expired or of another purpose.</summary>
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
        if (parts.Length != 3 || parts[0] != _purpose
            || !Guid.TryParseExact(parts[1], "N", out var workspaceId) || workspaceId == Guid.Empty
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expiry)
            || _clock.GetUtcNow().ToUnixTimeSeconds() >= expiry)
        {
            return null;
        }
        return workspaceId;
    }

    /// <summary>The workspace of the request's <see cref="Header"/> credential, or null.</summary>
    public Guid? Validate(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Validate(context.Request.Headers[Header].ToString());
    }

    /// <summary>
    /// The workspace a request to the checking service acts for: with a key only from a valid credential (the bare
    /// <see cref="WorkspaceHeader"/> is ignored, so the service may be reachable by others); without one from the header.
    /// </summary>
    public Guid? WorkspaceOf(HttpContext context) => Enabled ? Validate(context) : WorkspaceHeader.TryRead(context);

    /// <summary>
    /// Names <paramref name="workspaceId"/> on a request to the checking service: a fresh credential when a key is
    /// configured, and the header the service trusts without one. Whatever either header held before is replaced.
    /// </summary>
    public void Attach(HttpRequestMessage request, Guid workspaceId)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.Remove(ApiHeaders.WorkspaceId);
        request.Headers.Add(ApiHeaders.WorkspaceId, workspaceId.ToString());
        request.Headers.Remove(Header);
        if (Enabled)
        {
            request.Headers.Add(Header, Issue(workspaceId).Credential);
        }
    }
}

internal static class WorkspaceCredentialRegistration
{
    /// <summary>Registers one kind of credentials as a singleton, its options bound from <paramref name="sectionName"/>.</summary>
    public static IServiceCollection AddWorkspaceCredentials<TOptions, TCredentials>(
        this IServiceCollection services, string sectionName, Func<IOptions<TOptions>, TimeProvider, TCredentials> create)
        where TOptions : WorkspaceCredentialOptions
        where TCredentials : WorkspaceCredentials
    {
        services.AddOptions<TOptions>().BindConfiguration(sectionName);
        services.AddSingleton(provider => create(
            provider.GetRequiredService<IOptions<TOptions>>(), provider.GetService<TimeProvider>() ?? TimeProvider.System));
        return services;
    }
}
