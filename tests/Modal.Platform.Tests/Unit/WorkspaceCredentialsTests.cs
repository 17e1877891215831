using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Unit;

/// <summary>The purpose of a workspace credential is signed: one service's credential is no other's, even under one key.</summary>
public sealed class WorkspaceCredentialsTests
{
    private static readonly string SharedKey = TestSecretKeys.NewKey();

    private static StorageCredentials Storage() => new(Options.Create(new StorageCredentialOptions { Key = SharedKey }), TimeProvider.System);

    private static SecretCredentials Secrets() => new(Options.Create(new SecretCredentialOptions { Key = SharedKey }), TimeProvider.System);

    [Fact]
    public void Validate_OwnPurpose_ReturnsTheWorkspace()
    {
        var workspace = Guid.NewGuid();

        Assert.Equal(workspace, Storage().Validate(Storage().Issue(workspace).Credential));
        Assert.Equal(workspace, Secrets().Validate(Secrets().Issue(workspace).Credential));
    }

    [Fact]
    public void Validate_OtherPurposeUnderTheSameKey_ReturnsNull()
    {
        var workspace = Guid.NewGuid();

        Assert.Null(Secrets().Validate(Storage().Issue(workspace).Credential));
        Assert.Null(Storage().Validate(Secrets().Issue(workspace).Credential));
    }

    [Fact]
    public void Validate_PurposeRewritten_ReturnsNull()
    {
        var storage = Storage().Issue(Guid.NewGuid()).Credential;

        Assert.StartsWith("v1.", storage, StringComparison.Ordinal);
        Assert.Null(Secrets().Validate("secrets-v1." + storage[3..]));
    }

    [Fact]
    public void Issue_Secrets_IsShortLivedAndNamesItsPurpose()
    {
        var (credential, expiresAt) = Secrets().Issue(Guid.NewGuid());

        Assert.StartsWith("secrets-v1.", credential, StringComparison.Ordinal);
        Assert.True(expiresAt <= DateTimeOffset.UtcNow.AddMinutes(1).AddSeconds(1));
    }
}
