using System.Text.RegularExpressions;

namespace Modal.Secrets.Domain;

/// <summary>What secret names and keys may be.</summary>
public static partial class SecretRules
{
    public const string NameRule = "1-64 letters, digits, '-', '_' or '.'";
    public const string KeyRule = "letters, digits or '_', not starting with a digit (an environment variable name)";

    /// <summary>Values become environment variables, so a whole secret stays well under what an environment holds.</summary>
    public const int MaxValueBytes = 64 * 1024;
    public const int MaxKeys = 200;

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    public static bool IsValidKey(string? key) => key is not null && KeyPattern().IsMatch(key);

    /// <summary>The first problem with <paramref name="values"/>, naming a key but never a value; null when they are fine.</summary>
    public static string? Problem(IReadOnlyDictionary<string, string>? values)
    {
        if (values is null || values.Count == 0)
        {
            return "A secret needs at least one key.";
        }
        if (values.Count > MaxKeys)
        {
            return $"A secret holds at most {MaxKeys} keys.";
        }
        if (values.Keys.FirstOrDefault(k => !IsValidKey(k)) is { } badKey)
        {
            return $"Key '{badKey}' is invalid: use {KeyRule}.";
        }
        if (values.FirstOrDefault(p => p.Value is null).Key is { } nullKey)
        {
            return $"Key '{nullKey}' has no value.";
        }
        if (values.FirstOrDefault(p => p.Value.Contains('\0', StringComparison.Ordinal)).Key is { } nulKey)
        {
            return $"The value of '{nulKey}' contains a NUL character, which no environment variable can hold.";
        }
        return values.Sum(p => System.Text.Encoding.UTF8.GetByteCount(p.Value)) > MaxValueBytes
            ? $"A secret's values may take at most {MaxValueBytes / 1024} KiB."
            : null;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,255}$")]
    private static partial Regex KeyPattern();
}
