using System.Text;
using System.Text.RegularExpressions;

namespace Modal.Storage.Objects;

/// <summary>What names, Dict keys and Queue partition keys may be (pure rules, unit-tested).</summary>
public static partial class ObjectNames
{
    public const string NameRule = "1-64 letters, digits, '-', '_' or '.'";

    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>Modal's rule: a partition key is 1-64 bytes (UTF-8 here).</summary>
    public static bool IsValidPartitionKey(string key) =>
        Encoding.UTF8.GetByteCount(key) is >= 1 and <= StorageLimits.MaxPartitionKeyBytes;

    /// <summary>Dict keys travel in query strings, so they are bounded well under Kestrel's 8 KiB request line.</summary>
    public static bool IsValidDictKey(string? key) =>
        key is not null && Encoding.UTF8.GetByteCount(key) is >= 1 and <= StorageLimits.MaxDictKeyBytes;

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();
}

/// <summary>Modal's documented limits for Dicts and Queues (modal-reference §1.3, §1.10).</summary>
public static class StorageLimits
{
    public const int MaxItemBytes = 1024 * 1024;
    public const int MaxItemsPerPartition = 5_000;
    public const int MaxPartitions = 100_000;
    public const int MaxPartitionKeyBytes = 64;
    public const int MaxDictKeyBytes = 1024;
    public const long MaxDictLength = 100_000;

    /// <summary>A request carrying many items (put_many, update) may hold this much JSON in all.</summary>
    public const int MaxRequestBytes = 32 * 1024 * 1024;

    public const int MaxItemsPerGet = 5_000;
    public const int MaxPageSize = 1_000;
    public static readonly TimeSpan DefaultPartitionTtl = TimeSpan.FromHours(24);
    public static readonly TimeSpan MaxPartitionTtl = TimeSpan.FromDays(30);
}
