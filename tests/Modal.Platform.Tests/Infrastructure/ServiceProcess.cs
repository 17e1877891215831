using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// A platform service run as its own process from its build output (as the AppHost runs it), for tests that need
/// to kill one outright, e.g. a runner dying mid-call. Listens on a free loopback port; stopped by its own PID.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private static readonly string Configuration =
        typeof(ServiceProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServiceProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>The last lines the service printed, for failure messages.</summary>
    public string RecentOutput => string.Join('\n', _output.TakeLast(40));

    /// <summary>Starts services/<paramref name="service"/> (e.g. <c>GpuRunner</c>) and waits until its /health answers 200.</summary>
    public static async Task<ServiceProcess> StartAsync(string service, params (string Name, string Value)[] settings)
    {
        var binary = Path.Combine(RepositoryPaths.Root, "services", service, "bin", Configuration, "net10.0", $"Modal.{service}");
        var address = new Uri($"http://127.0.0.1:{FreePort()}");
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ASPNETCORE_URLS"] = address.ToString();
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        var own = InfrastructureFixture.Current?.ConnectionStringsFor(InfrastructureFixture.ResourceName(service)) ?? [];
        foreach (var (name, value) in own.Concat(settings))
        {
            start.Environment[name.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");
        var started = new ServiceProcess(process, address);
        process.OutputDataReceived += (_, e) => started.Capture(e.Data);
        process.ErrorDataReceived += (_, e) => started.Capture(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTimeOffset.UtcNow.AddSeconds(60);
        while (DateTimeOffset.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(new Uri("/health", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return started;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or too busy to answer within the client's 5 s on a loaded machine: ask again
                // (an escaping timeout here used to fail the test and leave the process running).
            }
            await Task.Delay(200);
        }
        var output = started.RecentOutput;
        await started.DisposeAsync();
        throw new InvalidOperationException($"{service} did not become healthy at {address}. Its output:\n{output}");
    }

    /// <summary>Kills the service and everything it started at once, as a machine dying would.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.WaitForExit(TimeSpan.FromSeconds(10));
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Capture(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
