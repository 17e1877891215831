using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Modal.Container.Protocol;
using Modal.GpuRunner;
using Modal.GpuRunner.Platform;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

/// <summary>
/// The runner's platform socket against two recording servers standing in for the Api and Storage: what it forwards
/// where, what it adds (nothing: no runner key), what it refuses (every other authority), and where it answers (only on
/// the socket, not on the runner's own port). The real stack through the socket is in <see cref="ContainerIsolationTests"/>.
/// </summary>
[Collection(InfrastructureTestGroup.Name)]
public sealed class PlatformSocketTests : IAsyncLifetime, IAsyncDisposable
{
    private const string Secret = "Bearer ak-test:as-test";
    private Recorder _api = null!;
    private Recorder _storage = null!;
    private ServiceFactory<GpuRunnerOptions> _runner = null!;
    private HttpClient _container = null!;
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"modal-psock-{Guid.NewGuid():N}"[..24]);

    public async Task InitializeAsync()
    {
        _api = await Recorder.StartAsync("api");
        _storage = await Recorder.StartAsync("storage");
        _runner = new ServiceFactory<GpuRunnerOptions>(
            ("GpuRunner:RunnerId", $"psock-{Guid.NewGuid():N}"[..16]),
            ("GpuRunner:ApiUrl", _api.Url.ToString()),
            ("GpuRunner:StoragePublicUrl", _storage.Url.ToString()),
            ("GpuRunner:RunnerKey", TestSecretKeys.RunnerKey),
            ("GpuRunner:CacheDirectory", Path.Combine(_root, "cache")),
            ("GpuRunner:RuntimeDirectory", Path.Combine(_root, "run")));
        _ = _runner.CreateClient();
        // What a container's SDK does: the same URLs, every connection to the socket.
        _container = new HttpClient(PlatformConnection.CreateHandler(socketPath: Socket.SocketPath));
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync();

    public async Task DisposeAsync()
    {
        if (!Directory.Exists(_root))
        {
            return;
        }
        _container.Dispose();
        await _runner.DisposeAsync();
        await _api.DisposeAsync();
        await _storage.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private PlatformSocket Socket => _runner.Services.GetRequiredService<PlatformSocket>();

    [Fact]
    public async Task Send_ToTheApisAuthority_ForwardedWithTheCallersTokenAndStreamedBodyAndNoRunnerKey()
    {
        var body = new byte[5 << 20];
        Random.Shared.NextBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_api.Url, "/v1/volumes/v/files/big?x=1"))
        {
            Content = new StreamContent(new MemoryStream(body)),
        };
        request.Headers.Authorization = AuthenticationHeaderValue.Parse(Secret);

        using var response = await _container.SendAsync(request);
        var seen = await response.Content.ReadFromJsonAsync<Seen>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(("api", "PUT", "/v1/volumes/v/files/big?x=1", body.Length), (seen!.Server, seen.Method, seen.Target, seen.Length));
        Assert.Equal(Secret, seen.Headers["Authorization"]);
        Assert.Equal(_api.Url.Authority, seen.Headers["Host"]);
        // Nothing added: no runner key (in any header), no forwarding headers naming the node.
        Assert.DoesNotContain(seen.Headers, header => header.Key.Equals("Modal-Runner-Key", StringComparison.OrdinalIgnoreCase)
            || header.Value.Contains(TestSecretKeys.RunnerKey, StringComparison.Ordinal) || header.Key.StartsWith("X-Forwarded", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Send_ToStoragesAuthority_ForwardedToStorage()
    {
        using var response = await _container.GetAsync(new Uri(_storage.Url, "/v1/dicts/d/items/k"));
        var seen = await response.Content.ReadFromJsonAsync<Seen>();

        Assert.Equal(("storage", "/v1/dicts/d/items/k"), (seen!.Server, seen.Target));
        Assert.Equal(0, _api.Requests);
    }

    [Theory]
    [InlineData("http://secrets/internal/v1/secrets/resolve")]
    [InlineData("http://scheduler/v1/runners")]
    [InlineData("http://127.0.0.1:{free}/v1/workspaces")]
    [InlineData("http://{api-host}:{free}/v1/workspaces")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    public async Task Send_ToAnyOtherAuthority_Refused421WithProblemDetails(string url)
    {
        using var free = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        free.Start();
        var target = url.Replace("{free}", ((IPEndPoint)free.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{api-host}", _api.Url.Host, StringComparison.Ordinal);
        free.Stop();

        using var response = await _container.GetAsync(new Uri(target));

        Assert.Equal(HttpStatusCode.MisdirectedRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Contains("forwards only to the Api and Storage", problem!.Detail, StringComparison.Ordinal);
        Assert.Equal((0, 0), (_api.Requests, _storage.Requests));
    }

    [Fact]
    public async Task RunnersOwnPort_RequestForTheApisAuthority_NotForwarded()
    {
        using var runner = _runner.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/workspaces");
        request.Headers.Host = _api.Url.Authority;

        using var response = await runner.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, _api.Requests);
        // While the socket does forward it.
        Assert.Equal(HttpStatusCode.OK, (await _container.GetAsync(new Uri(_api.Url, "/v1/workspaces"))).StatusCode);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Socket_AnyUidMayConnect()
    {
        var mode = File.GetUnixFileMode(Socket.SocketPath);

        Assert.Equal(UnixFileMode.OtherRead | UnixFileMode.OtherWrite, mode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite));
        Assert.True(File.GetUnixFileMode(Socket.Folder).HasFlag(UnixFileMode.OtherExecute));
        Assert.StartsWith(Path.Combine(_root, "run"), Socket.SocketPath, StringComparison.Ordinal);
    }

    private sealed record Seen(string Server, string Method, string Target, long Length, Dictionary<string, string> Headers);

    /// <summary>A server on a loopback port that answers every request with what it received.</summary>
    private sealed class Recorder : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;

        private Recorder(WebApplication app) => _app = app;

        public Uri Url { get; private set; } = null!;

        public int Requests => Volatile.Read(ref _requests);

        public static async Task<Recorder> StartAsync(string name)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = null);
            var app = builder.Build();
            var recorder = new Recorder(app);
            app.Run(async context =>
            {
                Interlocked.Increment(ref recorder._requests);
                var length = 0L;
                var buffer = new byte[81920];
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
                {
                    length += read;
                }
                var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
                await context.Response.WriteAsJsonAsync(new Seen(name, context.Request.Method,
                    context.Request.Path + context.Request.QueryString, length, headers));
            });
            await app.StartAsync();
            recorder.Url = new Uri(app.Urls.Single());
            return recorder;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
