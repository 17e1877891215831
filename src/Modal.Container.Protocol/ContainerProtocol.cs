using System.Buffers.Binary;
using System.Text.Json;

namespace Modal.Container.Protocol;

/// <summary>
/// The wire between a runner and the function server in its container: a Unix domain socket carrying frames of a
/// 4-byte big-endian length and a UTF-8 JSON body. Shared by both sides, so they cannot drift apart.
/// </summary>
public static class ContainerProtocol
{
    /// <summary>Environment variable with the socket path the function server listens on.</summary>
    public const string SocketVariable = "MODAL_FUNCTION_SOCKET";

    /// <summary>
    /// Environment variable with the path of the platform socket: the only way from inside a container to the platform
    /// (the Api and Storage). HTTP requests sent on it keep their URLs; the runner forwards each by its authority (the
    /// Api's or Storage's) and refuses any other. <see cref="PlatformConnection"/> makes the handler that uses it.
    /// </summary>
    public const string PlatformSocketVariable = "MODAL_PLATFORM_SOCKET";

    /// <summary>
    /// Environment variable, in a container of an ASP.NET Core app (<c>AspNetApp</c>), with the Unix socket path its
    /// Kestrel listens on; the runner's web forwarder sends the ingress's requests there. The socket appears only once the
    /// app is ready for requests.
    /// </summary>
    public const string WebSocketVariable = "MODAL_WEB_SOCKET";

    /// <summary>Where a container's web socket lives inside the container (its folder is bound from the runner's).</summary>
    public const string WebSocketPathInContainer = "/run/modal-web/web.sock";

    /// <summary>
    /// Environment variable naming the function whose web server a container runs (<c>AspNetApp</c> and <c>Server</c>
    /// containers only): the SDK builds that app, or runs that server's start, before it listens on <see cref="SocketVariable"/>.
    /// </summary>
    public const string WebFunctionVariable = "MODAL_WEB_FUNCTION";

    /// <summary>Environment variable, in a container of a <c>Server</c>, with the port its server must listen on.</summary>
    public const string WebPortVariable = "MODAL_WEB_PORT";

    /// <summary>Environment variable naming the class whose instance this container serves (class containers only).</summary>
    public const string ClassVariable = "MODAL_CLASS";

    /// <summary>
    /// Environment variables naming the app a process runs under, by id and name: set by a runner in its containers
    /// and by <c>modal run</c> for the local entrypoint, so that the program's calls of its own functions reach that
    /// app (an ephemeral run's, not a deployed app of the same name).
    /// </summary>
    public const string AppIdVariable = "MODAL_APP_ID", AppNameVariable = "MODAL_APP_NAME";

    /// <summary>Largest frame accepted: a blob-backed payload (up to 256 MiB) travels in one frame, JSON-escaped.</summary>
    public const int MaxFrameBytes = 640 * 1024 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>A frame's JSON body.</summary>
    internal static byte[] Serialize<T>(T message) => JsonSerializer.SerializeToUtf8Bytes(message, Json);

    /// <summary>Writes one frame. Callers serialise writes on a connection.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="stream">The connection.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public static async Task WriteAsync<T>(Stream stream, T message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var body = JsonSerializer.SerializeToUtf8Bytes(message, Json);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one frame; null when the other side closed the connection.</summary>
    /// <typeparam name="T">The message type.</typeparam>
    /// <param name="stream">The connection.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="InvalidDataException">The frame is larger than <see cref="MaxFrameBytes"/> or not valid JSON.</exception>
    public static async Task<T?> ReadAsync<T>(Stream stream, CancellationToken cancellationToken) where T : class
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = new byte[4];
        if (!await ReadExactlyOrEndAsync(stream, header, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is < 0 or > MaxFrameBytes)
        {
            throw new InvalidDataException($"A container frame of {length} bytes is outside 0..{MaxFrameBytes}.");
        }
        var body = new byte[length];
        if (!await ReadExactlyOrEndAsync(stream, body, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidDataException("The connection closed in the middle of a frame.");
        }
        try
        {
            return JsonSerializer.Deserialize<T>(body, Json) ?? throw new InvalidDataException("A container frame was JSON null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException("A container frame is not valid JSON.", e);
        }
    }

    private static async Task<bool> ReadExactlyOrEndAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return filled == 0 ? false : throw new InvalidDataException("The connection closed in the middle of a frame.");
            }
            filled += read;
        }
        return true;
    }
}
