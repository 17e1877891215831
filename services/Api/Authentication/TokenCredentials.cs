using System.Security.Cryptography;
using System.Text;
using Modal.Api.Contracts;

namespace Modal.Api.Authentication;

/// <summary>Creation, parsing and hashing of token credentials (pure functions, unit-tested).</summary>
public static class TokenCredentials
{
    public const string IdPrefix = "ak-";
    public const string SecretPrefix = "as-";

    /// <summary>Header pair the Modal client sends (<c>x-modal-token-id</c> / <c>x-modal-token-secret</c>).</summary>
    public const string TokenIdHeader = ApiHeaders.TokenId, TokenSecretHeader = ApiHeaders.TokenSecret;

    private const int RandomBytes = 16;

    public static (string Id, string Secret) Generate() => Generate(IdPrefix, SecretPrefix);

    /// <summary>A credential of another kind (proxy-auth tokens): each prefix followed by 32 hex digits, 128 random bits.</summary>
    internal static (string Id, string Secret) Generate(string idPrefix, string secretPrefix) =>
        (idPrefix + RandomPart(), secretPrefix + RandomPart());

    public static byte[] HashSecret(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    public static bool SecretMatches(string secret, byte[] storedHash) =>
        CryptographicOperations.FixedTimeEquals(HashSecret(secret), storedHash);

    /// <summary>
    /// Reads credentials from <c>Authorization: Bearer ak-…:as-…</c> or from the Modal-Token-Id / Modal-Token-Secret
    /// header pair. Returns null when neither is present or the value is malformed.
    /// </summary>
    public static (string Id, string Secret)? Parse(string? authorization, string? tokenId, string? tokenSecret)
    {
        if (!string.IsNullOrEmpty(tokenId) || !string.IsNullOrEmpty(tokenSecret))
        {
            return IsWellFormed(tokenId, tokenSecret) ? (tokenId!, tokenSecret!) : null;
        }

        const string bearer = "Bearer ";
        if (authorization is null || !authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var pair = authorization[bearer.Length..].Trim().Split(':', 2);
        return pair.Length == 2 && IsWellFormed(pair[0], pair[1]) ? (pair[0], pair[1]) : null;
    }

    private static bool IsWellFormed(string? id, string? secret) =>
        id is { Length: > 3 and <= 64 } && id.StartsWith(IdPrefix, StringComparison.Ordinal)
        && secret is { Length: > 3 and <= 128 } && secret.StartsWith(SecretPrefix, StringComparison.Ordinal);

    private static string RandomPart() =>
        Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(RandomBytes));
}
