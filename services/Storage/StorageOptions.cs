using System.ComponentModel.DataAnnotations;

namespace Modal.Storage;

/// <summary>Settings of the Storage service (section <c>Storage</c>).</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary>S3 bucket names are 3-63 lowercase letters, digits, dots or dashes.</summary>
    private const string BucketNamePattern = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$";
    private const string BucketNameRule = "must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots or dashes";

    /// <summary>Bucket for content-addressed blobs: large call payloads and app bundle files.</summary>
    [Required, RegularExpression(BucketNamePattern, ErrorMessage = "Storage:BlobBucket " + BucketNameRule)]
    public string BlobBucket { get; set; } = "modal-blobs";

    /// <summary>Bucket that holds the files of every Volume.</summary>
    [Required, RegularExpression(BucketNamePattern, ErrorMessage = "Storage:VolumeBucket " + BucketNameRule)]
    public string VolumeBucket { get; set; } = "modal-volumes";

    public IEnumerable<string> AllBuckets => [BlobBucket, VolumeBucket];

    /// <summary>
    /// Answer a client's read of a Volume file or blob of at least <see cref="PresignedReadMinBytes"/> with a redirect to a
    /// presigned S3 URL (when the client asks for one with <c>Modal-Accept-Redirect: presigned</c>), so the bytes go from S3
    /// to the client without passing through Storage. Needs S3 reachable by clients at the address Storage uses.
    /// </summary>
    public bool PresignedReads { get; set; }

    /// <summary>Smaller reads stream through Storage: for them the redirect's extra round trip costs more than it saves.</summary>
    public const long PresignedReadMinBytes = 1024 * 1024;

    /// <summary>
    /// Trace every Dict entry and Queue item request (and its Redis command) and every blob upload and download (and its S3
    /// requests). Off by default: on the data path a span per operation, exported to the collector, costs more CPU than
    /// the operation itself (see docs/decisions.md, 14 and 19). Lifecycle, listing, Volume and missing-blob requests are
    /// always traced.
    /// </summary>
    public bool TraceDataOperations { get; set; }

    /// <summary>A Dict entry expires after this long without a read or write (Modal: 7 days).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00", ErrorMessage = "Storage:DictEntryTtl must be between 1 second and 365 days.")]
    public TimeSpan DictEntryTtl { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// An ephemeral Dict or Queue is gone this long after its creator's last heartbeat (the SDK beats at a third of it),
    /// so one whose process died without deleting it does not outlive that process by much.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:03", "01:00:00", ErrorMessage = "Storage:EphemeralTtl must be between 3 seconds and 1 hour.")]
    public TimeSpan EphemeralTtl { get; set; } = TimeSpan.FromMinutes(1);
}
