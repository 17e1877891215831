using System.Buffers;

namespace Modal.Api.Authentication;

/// <summary>
/// Proxy-auth token credentials: id <c>wk-</c> and 32 hex digits, secret <c>ws-</c> and 32 hex digits (128 random bits
/// each, Modal's prefixes). Hashing and comparison are <see cref="TokenCredentials"/>'s.
/// </summary>
public static class ProxyTokenCredentials
{
    public const string IdPrefix = "wk-";
    public const string SecretPrefix = "ws-";

    /// <summary>Longest name a token may carry.</summary>
    public const int MaxNameLength = 100;

    private const int RandomBytes = 16;
    private const int RandomHexLength = RandomBytes * 2;
    private static readonly SearchValues<char> LowerHex = SearchValues.Create("0123456789abcdef");

    public static (string Id, string Secret) Generate() => TokenCredentials.Generate(IdPrefix, SecretPrefix);

    /// <summary>Whether a value can be a token id at all (checked before any lookup, so junk never reaches the store).</summary>
    public static bool IsWellFormedId(string? id) => IsPrefixedHex(id, IdPrefix);

    /// <summary>Whether a value can be a token secret at all.</summary>
    public static bool IsWellFormedSecret(string? secret) => IsPrefixedHex(secret, SecretPrefix);

    private static bool IsPrefixedHex(string? value, string prefix) =>
        value is not null && value.Length == prefix.Length + RandomHexLength
        && value.StartsWith(prefix, StringComparison.Ordinal)
        && !value.AsSpan(prefix.Length).ContainsAnyExcept(LowerHex);
}
