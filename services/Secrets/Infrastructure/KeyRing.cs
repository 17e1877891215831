using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Modal.Secrets.Domain;

namespace Modal.Secrets.Infrastructure;

/// <summary>
/// Seals and opens secret values with AES-256-GCM. Each ciphertext gets a fresh random 96-bit nonce and is bound to its
/// secret's identity (workspace id and name, as associated data), so a ciphertext copied into another row, or another
/// workspace, fails to open instead of handing over its values. Values sealed with an older key of the ring still open;
/// sealing always uses the active key.
/// </summary>
public sealed partial class KeyRing
{
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private readonly Dictionary<string, byte[]> _keys;

    public KeyRing(IOptions<SecretsOptions> options)
    {
        var settings = options.Value;
        _keys = settings.Keys.ToDictionary(k => k.Key, k => TryDecodeKey(k.Value, out var key) ? key : throw new InvalidOperationException(
            $"Secrets:Keys:{k.Key} is not a base64 256-bit key."), StringComparer.Ordinal);
        ActiveKeyId = settings.ActiveKeyId;
    }

    public string ActiveKeyId { get; }

    /// <summary>Ids of every key of the ring.</summary>
    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    public static bool IsValidKeyId(string keyId) => KeyIdPattern().IsMatch(keyId);

    public static bool TryDecodeKey(string? base64, out byte[] key)
    {
        key = [];
        if (string.IsNullOrWhiteSpace(base64))
        {
            return false;
        }
        var buffer = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64.Trim(), buffer, out var written) || written != 32)
        {
            return false;
        }
        key = buffer[..32];
        return true;
    }

    /// <summary>Seals <paramref name="values"/> for the secret <paramref name="name"/> of <paramref name="workspaceId"/> with the active key.</summary>
    public (string KeyId, byte[] Ciphertext) Seal(Guid workspaceId, string name, IReadOnlyDictionary<string, string> values)
    {
        var plaintext = JsonSerializer.SerializeToUtf8Bytes(values);
        try
        {
            var sealedValue = new byte[NonceBytes + plaintext.Length + TagBytes];
            var nonce = sealedValue.AsSpan(0, NonceBytes);
            RandomNumberGenerator.Fill(nonce);
            using var aes = new AesGcm(_keys[ActiveKeyId], TagBytes);
            aes.Encrypt(nonce, plaintext, sealedValue.AsSpan(NonceBytes, plaintext.Length), sealedValue.AsSpan(NonceBytes + plaintext.Length),
                AssociatedData(workspaceId, name));
            return (ActiveKeyId, sealedValue);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>Opens a stored secret's values.</summary>
    /// <exception cref="CryptographicException">The key is not in the ring, or the ciphertext was altered or moved.</exception>
    public Dictionary<string, string> Open(StoredSecret secret)
    {
        if (!_keys.TryGetValue(secret.KeyId, out var key))
        {
            throw new CryptographicException(
                $"Secret '{secret.Name}' is sealed with key '{secret.KeyId}', which is not in Secrets:Keys; add it back to read the secret.");
        }
        var sealedValue = secret.Ciphertext;
        if (sealedValue.Length < NonceBytes + TagBytes)
        {
            throw new CryptographicException($"Secret '{secret.Name}' has a truncated ciphertext.");
        }
        var plaintext = new byte[sealedValue.Length - NonceBytes - TagBytes];
        try
        {
            using var aes = new AesGcm(key, TagBytes);
            aes.Decrypt(sealedValue.AsSpan(0, NonceBytes), sealedValue.AsSpan(NonceBytes, plaintext.Length),
                sealedValue.AsSpan(NonceBytes + plaintext.Length), plaintext, AssociatedData(secret.WorkspaceId, secret.Name));
            return JsonSerializer.Deserialize<Dictionary<string, string>>(plaintext)
                ?? throw new CryptographicException($"Secret '{secret.Name}' holds no values.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    // Version prefix: a later format can bind more (or other) fields without old ciphertexts opening under it.
    private static byte[] AssociatedData(Guid workspaceId, string name) =>
        Encoding.UTF8.GetBytes($"modal-secret/v1/{workspaceId:N}/{name}");

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex KeyIdPattern();
}
