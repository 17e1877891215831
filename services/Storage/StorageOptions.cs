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
}
