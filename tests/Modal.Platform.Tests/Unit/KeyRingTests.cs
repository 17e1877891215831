using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Modal.Platform.Tests.Infrastructure;
using Modal.Secrets;
using Modal.Secrets.Domain;
using Modal.Secrets.Infrastructure;

namespace Modal.Platform.Tests.Unit;

public sealed class KeyRingTests
{
    private static readonly Dictionary<string, string> Values = new() { ["TOKEN"] = "plain-value" };

    [Fact]
    public void Seal_ThenOpen_RoundTripsWithoutPlaintextInTheCiphertext()
    {
        var ring = Ring("a", ("a", TestSecretKeys.NewKey()));
        var workspace = Guid.NewGuid();

        var (keyId, ciphertext) = ring.Seal(workspace, "s", Values);

        Assert.Equal("a", keyId);
        Assert.DoesNotContain("plain-value", Encoding.UTF8.GetString(ciphertext), StringComparison.Ordinal);
        Assert.Equal(Values, ring.Open(Stored(workspace, "s", keyId, ciphertext)));
        Assert.NotEqual(ciphertext, ring.Seal(workspace, "s", Values).Ciphertext); // A fresh nonce each time.
    }

    [Fact]
    public void Open_CiphertextMovedToAnotherSecretOrWorkspace_Fails()
    {
        var ring = Ring("a", ("a", TestSecretKeys.NewKey()));
        var workspace = Guid.NewGuid();
        var (keyId, ciphertext) = ring.Seal(workspace, "s", Values);

        Assert.ThrowsAny<CryptographicException>(() => ring.Open(Stored(workspace, "other", keyId, ciphertext)));
        Assert.ThrowsAny<CryptographicException>(() => ring.Open(Stored(Guid.NewGuid(), "s", keyId, ciphertext)));
    }

    [Fact]
    public void Open_SealedWithAnOlderKeyOfTheRing_Opens_AndSealUsesTheActiveKey()
    {
        var (oldKey, newKey) = (TestSecretKeys.NewKey(), TestSecretKeys.NewKey());
        var workspace = Guid.NewGuid();
        var (_, sealedBefore) = Ring("old", ("old", oldKey)).Seal(workspace, "s", Values);
        var rotated = Ring("new", ("old", oldKey), ("new", newKey));

        Assert.Equal(Values, rotated.Open(Stored(workspace, "s", "old", sealedBefore)));
        Assert.Equal("new", rotated.Seal(workspace, "s", Values).KeyId);
        var removed = Assert.ThrowsAny<CryptographicException>(() => Ring("new", ("new", newKey)).Open(Stored(workspace, "s", "old", sealedBefore)));
        Assert.Contains("'old'", removed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BadKeyRing_NamesTheSettingButNotTheKey()
    {
        var options = new SecretsOptions { Keys = { ["k1"] = "bm90LTMyLWJ5dGVz" }, ActiveKeyId = "k2", RunnerKey = TestSecretKeys.RunnerKey };

        var result = new SecretsOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Secrets:Keys:k1", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Secrets:ActiveKeyId 'k2'", result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("bm90LTMyLWJ5dGVz", result.FailureMessage, StringComparison.Ordinal);
    }

    private static KeyRing Ring(string active, params (string Id, string Key)[] keys) =>
        new(Options.Create(new SecretsOptions { Keys = keys.ToDictionary(k => k.Id, k => k.Key), ActiveKeyId = active, RunnerKey = TestSecretKeys.RunnerKey }));

    private static StoredSecret Stored(Guid workspace, string name, string keyId, byte[] ciphertext) =>
        new() { WorkspaceId = workspace, Name = name, KeyId = keyId, Ciphertext = ciphertext, KeyNames = [.. Values.Keys] };
}
