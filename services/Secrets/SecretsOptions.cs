using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Modal.Secrets.Infrastructure;

namespace Modal.Secrets;

/// <summary>Settings of the Secrets service (section <c>Secrets</c>).</summary>
public sealed class SecretsOptions
{
    public const string SectionName = "Secrets";

    /// <summary>
    /// The key ring: key id → 256-bit AES key, base64 (<c>Secrets:Keys:{keyId}</c>). Keys no longer active stay here
    /// until no secret is encrypted with them (the service re-encrypts such secrets with the active key at start).
    /// </summary>
    public Dictionary<string, string> Keys { get; set; } = [];

    /// <summary>The key new and updated values are encrypted with (<c>Secrets:ActiveKeyId</c>).</summary>
    [Required(ErrorMessage = "Secrets:ActiveKeyId is required: name the key of Secrets:Keys that encrypts new values.")]
    public string ActiveKeyId { get; set; } = "";

    /// <summary>
    /// The credential runners present (header <see cref="Modal.Api.Contracts.ApiHeaders.RunnerKey"/>) to read values when they start a container
    /// (<c>Secrets:RunnerKey</c>, at least 32 characters). Nothing else may read values.
    /// </summary>
    [Required(ErrorMessage = "Secrets:RunnerKey is required: the shared key runners present to read secret values.")]
    [MinLength(32, ErrorMessage = "Secrets:RunnerKey must be at least 32 characters.")]
    public string RunnerKey { get; set; } = "";
}

/// <summary>Checks the key ring at start, naming the setting that is wrong (never a key's value).</summary>
public sealed class SecretsOptionsValidator : IValidateOptions<SecretsOptions>
{
    public ValidateOptionsResult Validate(string? name, SecretsOptions options)
    {
        var failures = new List<string>();
        if (options.Keys.Count == 0)
        {
            failures.Add("Secrets:Keys is empty: configure at least one 256-bit key as Secrets:Keys:{keyId} (base64).");
        }
        foreach (var (keyId, value) in options.Keys)
        {
            if (!KeyRing.IsValidKeyId(keyId))
            {
                failures.Add($"Secrets:Keys:{keyId}: a key id is 1-32 letters, digits, '-' or '_'.");
            }
            if (!KeyRing.TryDecodeKey(value, out _))
            {
                failures.Add($"Secrets:Keys:{keyId} is not a base64 256-bit key (32 bytes).");
            }
        }
        if (!string.IsNullOrEmpty(options.ActiveKeyId) && !options.Keys.ContainsKey(options.ActiveKeyId))
        {
            failures.Add($"Secrets:ActiveKeyId '{options.ActiveKeyId}' names no key of Secrets:Keys.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
