using System.Net;
using System.Text.Json;
using Modal.Api.Contracts.Objects;
using Modal.Volumes;
using Refit;

namespace Modal;

/// <summary>Runs Dict, Queue, Volume and Secret requests, turning the platform's problem details into the SDK's typed exceptions.</summary>
internal static class StorageCalls
{
    private const string QueueFullProblemType = "urn:modal:problem:queue-full";

    public static async Task<T> RunAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ApiException e) when (Translate(e) is { } translated)
        {
            throw translated;
        }
    }

    public static Task RunAsync(Func<Task> call) => RunAsync(async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    });

    /// <summary>Throws the typed exception for an unsuccessful response read without Refit's checks (a streamed file).</summary>
    public static Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        VolumeHttp.EnsureSuccessAsync(response, Translate, cancellationToken);

    /// <summary>The typed exception for an unsuccessful answer read without Refit (also the Volume sync's); null when its status has none.</summary>
    public static Exception? Translate(HttpStatusCode status, string content) =>
        Translate(status, content, $"The platform answered {(int)status}.");

    private static Exception? Translate(ApiException error) => Translate(error.StatusCode, error.Content, error.Message);

    private static Exception? Translate(HttpStatusCode status, string? content, string fallback)
    {
        var (type, detail) = Problem(content);
        detail ??= fallback;
        return status switch
        {
            HttpStatusCode.NotFound => new NotFoundException(detail),
            HttpStatusCode.RequestEntityTooLarge => new RequestSizeException(detail),
            HttpStatusCode.Conflict when type == QueueFullProblemType => new QueueFullException(detail),
            HttpStatusCode.Conflict => new AlreadyExistsException(detail),
            HttpStatusCode.RequestedRangeNotSatisfiable => new ArgumentOutOfRangeException(null, detail),
            HttpStatusCode.BadRequest => new ArgumentException(detail),
            _ => null,
        };
    }

    private static (string? Type, string? Detail) Problem(string? content)
    {
        try
        {
            using var problem = JsonDocument.Parse(content ?? "");
            var root = problem.RootElement;
            return (Text(root, "type"), Text(root, "detail"));
        }
        catch (JsonException)
        {
            return (null, null);
        }

        static string? Text(JsonElement root, string name) =>
            root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString() : null;
    }
}

/// <summary>
/// Keeps an ephemeral Dict or Queue alive while its creator runs, and deletes it when disposed. Modal ties ephemeral
/// objects to the app run that made them; here the run is the process holding this lease: it beats every
/// <see cref="Interval"/>, and the platform drops the object a minute (its ephemeral TTL) after the last beat, so an
/// object outlives a crashed run by about that much and a finished run (disposal) not at all.
/// </summary>
internal sealed class EphemeralLease : IAsyncDisposable
{
    /// <summary>A quarter of the platform's default one-minute TTL: three beats may fail before the object is lost.</summary>
    internal static TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _beating;
    private readonly Func<CancellationToken, Task> _delete;

    public EphemeralLease(Func<CancellationToken, Task> heartbeat, Func<CancellationToken, Task> delete)
    {
        _delete = delete;
        _beating = BeatAsync(heartbeat, _stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _beating.ConfigureAwait(false);
        _stop.Dispose();
        try
        {
            await _delete(CancellationToken.None).ConfigureAwait(false);
        }
        catch (NotFoundException)
        {
            // Already gone (deleted by someone else, or expired while the process was suspended): nothing to clean up.
        }
    }

    private static async Task BeatAsync(Func<CancellationToken, Task> heartbeat, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await heartbeat(stop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is HttpRequestException or ApiException or NotFoundException or TaskCanceledException && !stop.IsCancellationRequested)
                {
                    // A missed beat is retried at the next tick; the TTL allows for several.
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Disposed.
        }
    }
}

/// <summary>Runs a Dict's or Queue's operations, first creating the object once when its handle was made with <c>createIfMissing</c>.</summary>
internal sealed class ObjectHandle(bool createIfMissing, Func<CancellationToken, Task> create)
{
    private volatile bool _created = !createIfMissing;

    public async Task<T> RunAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return await StorageCalls.RunAsync(call).ConfigureAwait(false);
    }

    public async Task RunAsync(Func<Task> call, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        await StorageCalls.RunAsync(call).ConfigureAwait(false);
    }

    private async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        // Creation is idempotent on the server, so two first operations racing both sending it is harmless.
        if (!_created)
        {
            await StorageCalls.RunAsync(() => create(cancellationToken)).ConfigureAwait(false);
            _created = true;
        }
    }
}

/// <summary>The lifecycle calls Dicts and Queues share, over either REST client.</summary>
internal sealed record ObjectLifecycle(
    Func<string, bool?, CancellationToken, Task<StorageObjectInfo>> Ensure,
    Func<string, CancellationToken, Task<StorageObjectInfo>> Get,
    Func<string, CancellationToken, Task> Heartbeat,
    Func<string, CancellationToken, Task> Delete)
{
    public static ObjectLifecycle Of(Rest.IDictsApi api) => new(api.EnsureAsync, api.GetAsync, api.HeartbeatAsync, api.DeleteAsync);

    public static ObjectLifecycle Of(Rest.IQueuesApi api) => new(api.EnsureAsync, api.GetAsync, api.HeartbeatAsync, api.DeleteAsync);

    public static ObjectLifecycle Of(Rest.IVolumesApi api) => new(api.EnsureAsync, api.GetAsync, api.HeartbeatAsync, api.DeleteAsync);

    /// <summary>Creates an ephemeral object with a generated name and the lease that keeps it alive.</summary>
    public async Task<(string Name, EphemeralLease Lease)> CreateEphemeralAsync(CancellationToken cancellationToken)
    {
        var name = $"ephemeral-{Guid.NewGuid():N}";
        await StorageCalls.RunAsync(() => Ensure(name, true, cancellationToken)).ConfigureAwait(false);
        return (name, new EphemeralLease(
            token => StorageCalls.RunAsync(() => Heartbeat(name, token)),
            token => StorageCalls.RunAsync(() => Delete(name, token))));
    }

    public Task<StorageObjectInfo> InfoAsync(string name, bool createIfMissing, CancellationToken cancellationToken) =>
        StorageCalls.RunAsync(() => createIfMissing ? Ensure(name, null, cancellationToken) : Get(name, cancellationToken));
}
