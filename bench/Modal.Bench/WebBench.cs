using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Modal.Bench;

/// <summary>
/// Web endpoints (issue 18), each against the same ASP.NET Core app run bare on the node and hit directly, in the same
/// run and in turns:
///   server path        GET /ping through the ingress to a warm container of an <c>AspNetApp</c> (no queue);
///   web function path  POST of a no-op web function (a call through the queue), beside the warm <c>RemoteAsync</c>;
///   load               50 concurrent clients for 30 s on the server path: throughput and errors.
/// </summary>
internal static class WebBench
{
    /// <summary>Argument that makes the program serve <see cref="Build"/> bare on 127.0.0.1 (the baseline).</summary>
    public const string BareArgument = "--web-bare";

    /// <summary>The benchmark's app, the same in a container and bare.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        var web = builder.Build();
        web.MapGet("/ping", () => "pong");
        web.MapPost("/noop", (NoopInput input) => input.X);
        return web;
    }

    /// <summary>The baseline process: the app on its own Kestrel, on a loopback port.</summary>
    public static async Task<int> ServeBareAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenLocalhost(port));
        await using var web = Build(builder);
        await web.StartAsync();
        Console.WriteLine("listening");
        // Until the benchmark kills it.
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    /// <summary>Argument that makes the program a bare YARP forwarder on 127.0.0.1 in front of a bare app (one hop's floor).</summary>
    public const string BareProxyArgument = "--web-bare-proxy";

    /// <summary>
    /// One proxy hop and nothing else: Kestrel and YARP's <see cref="IHttpForwarder"/> with a pooled client, forwarding
    /// every request to <paramref name="target"/>, as the ingress and a runner's forwarder each do at their core.
    /// </summary>
    public static async Task<int> ServeBareProxyAsync(int port, Uri target)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenLocalhost(port));
        builder.Services.AddHttpForwarder();
        await using var web = builder.Build();
        var forwarder = web.Services.GetRequiredService<IHttpForwarder>();
        using var client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false, AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None, UseCookies = false,
        });
        var destination = target.ToString();
        web.Run(async context => await forwarder.SendAsync(context, destination, client));
        await web.StartAsync();
        Console.WriteLine("listening");
        await Task.Delay(Timeout.Infinite);
        return 0;
    }

    /// <summary>Argument that makes the program a byte splice on 127.0.0.1 in front of a bare app (a tunnel hop's floor).</summary>
    public const string BareSpliceArgument = "--web-bare-splice";

    /// <summary>
    /// A hop that does not parse HTTP: each accepted connection is joined to a new connection to <paramref name="targetPort"/>
    /// and bytes are copied both ways, as a runner's byte-level tunnel to a container would (issue 18's idea 2).
    /// </summary>
    public static async Task<int> ServeBareSpliceAsync(int port, int targetPort)
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        listener.Start();
        Console.WriteLine("listening");
        while (true)
        {
            var inbound = await listener.AcceptSocketAsync();
            _ = Task.Run(async () =>
            {
                inbound.NoDelay = true;
                using var outbound = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await outbound.ConnectAsync(System.Net.IPAddress.Loopback, targetPort);
                await using var a = new System.Net.Sockets.NetworkStream(inbound, ownsSocket: true);
                await using var b = new System.Net.Sockets.NetworkStream(outbound, ownsSocket: false);
                var up = a.CopyToAsync(b);
                var down = b.CopyToAsync(a);
                await Task.WhenAny(up, down);
                outbound.Shutdown(System.Net.Sockets.SocketShutdown.Both);
            });
        }
    }

    public static async Task RunAsync(Uri serverUrl, Uri webFunctionUrl, Func<int, Task> remoteNoop, int requests, TimeSpan loadFor)
    {
        var port = FreePort();
        using var bare = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Modal.Bench.dll"), BareArgument,
            port.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true })!;
        var proxyPort = FreePort();
        using var proxy = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Modal.Bench.dll"), BareProxyArgument,
            proxyPort.ToString(CultureInfo.InvariantCulture), $"http://127.0.0.1:{port}/"]) { RedirectStandardOutput = true })!;
        // The platform's server path has two proxies (ingress, runner): two bare hops in a row are its floor here.
        var outerPort = FreePort();
        using var outer = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Modal.Bench.dll"), BareProxyArgument,
            outerPort.ToString(CultureInfo.InvariantCulture), $"http://127.0.0.1:{proxyPort}/"]) { RedirectStandardOutput = true })!;
        // The floor with the runner's hop made a byte splice: one YARP hop, then a splice, then the app.
        var splicePort = FreePort();
        using var splice = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Modal.Bench.dll"), BareSpliceArgument,
            splicePort.ToString(CultureInfo.InvariantCulture), port.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true })!;
        var spliceProxyPort = FreePort();
        using var spliceProxy = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Modal.Bench.dll"), BareProxyArgument,
            spliceProxyPort.ToString(CultureInfo.InvariantCulture), $"http://127.0.0.1:{splicePort}/"]) { RedirectStandardOutput = true })!;
        try
        {
            await bare.StandardOutput.ReadLineAsync();
            await proxy.StandardOutput.ReadLineAsync();
            await outer.StandardOutput.ReadLineAsync();
            await splice.StandardOutput.ReadLineAsync();
            await spliceProxy.StandardOutput.ReadLineAsync();
            var splicedUrl = new Uri($"http://127.0.0.1:{spliceProxyPort}/");
            var bareUrl = new Uri($"http://127.0.0.1:{port}/");
            var proxiedUrl = new Uri($"http://127.0.0.1:{proxyPort}/");
            var twiceProxiedUrl = new Uri($"http://127.0.0.1:{outerPort}/");
            using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) });

            // Cold start of the server's first container is not what this measures: wait until it answers.
            var first = Stopwatch.GetTimestamp();
            (await http.GetAsync(new Uri(serverUrl, "ping"))).EnsureSuccessStatusCode();
            Console.WriteLine($"server path: first answer after {Stopwatch.GetElapsedTime(first).TotalSeconds:F1} s (scale from zero)");

            var server = await Latency.InterleavedAsync(requests, Math.Min(requests, 1_000),
                ("bare GET", _ => GetAsync(http, new Uri(bareUrl, "ping"))),
                ("platform GET", _ => GetAsync(http, new Uri(serverUrl, "ping"))),
                ("one bare YARP hop GET", _ => GetAsync(http, new Uri(proxiedUrl, "ping"))),
                ("two bare YARP hops GET", _ => GetAsync(http, new Uri(twiceProxiedUrl, "ping"))),
                ("bare YARP hop + byte splice GET", _ => GetAsync(http, new Uri(splicedUrl, "ping"))));
            Print("server path, GET /ping", server[0], server[1]);
            Print("one bare YARP hop (floor of a proxy here), GET /ping", server[0], server[2]);
            Print("two bare YARP hops (floor of the server path's two proxies), GET /ping", server[0], server[3]);
            Print("a bare YARP hop + a byte splice (floor of a tunnelled runner hop), GET /ping", server[0], server[4]);

            var calls = Math.Max(100, requests / 10);
            var function = await Latency.InterleavedAsync(calls, Math.Min(calls, 200),
                ("bare POST", i => PostAsync(http, new Uri(bareUrl, "noop"), i)),
                ("web function POST", i => PostAsync(http, webFunctionUrl, i)),
                ("RemoteAsync", remoteNoop));
            Print("web function path, POST", function[0], function[1]);
            Console.WriteLine($"  warm RemoteAsync of a no-op, same run: p50 {function[2].P50:F3} ms, p99 {function[2].P99:F3} ms");

            foreach (var (name, url) in new[] { ("bare", new Uri(bareUrl, "ping")), ("platform", new Uri(serverUrl, "ping")) })
            {
                var (ok, errors, elapsed) = await LoadAsync(url, clients: 50, loadFor);
                Console.WriteLine($"load, 50 clients for {loadFor.TotalSeconds:F0} s, {name}: {ok / elapsed.TotalSeconds:F0} requests/s, {ok:N0} ok, {errors} errors");
            }
        }
        finally
        {
            foreach (var child in new[] { bare, proxy, outer, splice, spliceProxy })
            {
                child.Kill();
                await child.WaitForExitAsync();
            }
        }
    }

    private static void Print(string what, (double P50, double P99) bare, (double P50, double P99) platform) =>
        Console.WriteLine($"{what}: bare p50 {bare.P50:F3} ms p99 {bare.P99:F3} ms; platform p50 {platform.P50:F3} ms p99 {platform.P99:F3} ms; " +
            $"added p50 {platform.P50 - bare.P50:F3} ms, p99 {platform.P99 - bare.P99:F3} ms");

    private static async Task GetAsync(HttpClient http, Uri url)
    {
        using var response = await http.GetAsync(url);
        response.EnsureSuccessStatusCode();
        await response.Content.ReadAsByteArrayAsync();
    }

    private static async Task PostAsync(HttpClient http, Uri url, int x)
    {
        using var response = await http.PostAsJsonAsync(url, new NoopInput(x));
        response.EnsureSuccessStatusCode();
        await response.Content.ReadAsByteArrayAsync();
    }

    private static async Task<(long Ok, long Errors, TimeSpan Elapsed)> LoadAsync(Uri url, int clients, TimeSpan duration)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients });
        long ok = 0, errors = 0;
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                try
                {
                    await GetAsync(http, url);
                    Interlocked.Increment(ref ok);
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })));
        return (ok, errors, Stopwatch.GetElapsedTime(started));
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The no-op's body.</summary>
internal sealed record NoopInput(int X);
