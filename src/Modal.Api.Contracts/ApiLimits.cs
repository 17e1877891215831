namespace Modal.Api.Contracts;

/// <summary>Limits of the platform's REST API that clients and services both apply.</summary>
public static class ApiLimits
{
    /// <summary>
    /// Largest JSON payload (call arguments or a result) carried inline, in a request, a bus message or an answer; a
    /// larger one travels as a content-addressed blob (<c>/v1/blobs/{sha256}</c>) named by its hash.
    /// </summary>
    public const int MaxInlinePayloadBytes = 2 * 1024 * 1024;

    /// <summary>Largest argument payload a call may carry as a blob.</summary>
    public const long MaxBlobPayloadBytes = 256L * 1024 * 1024;

    /// <summary>Largest blob a client may upload (a bundle file such as libtorch is ~440 MB).</summary>
    public const long MaxBlobBytes = 4L * 1024 * 1024 * 1024;

    /// <summary>
    /// Longest single wait of a long poll (a call's <c>timeout</c> or <c>wait</c>, a map's outputs, a Queue get, an app's
    /// logs), in seconds; clients wait longer by asking again, as Modal's do.
    /// </summary>
    public const int MaxLongPollSeconds = 50;

    /// <summary><see cref="MaxLongPollSeconds"/> as a duration.</summary>
    public static readonly TimeSpan MaxLongPoll = TimeSpan.FromSeconds(MaxLongPollSeconds);
}
