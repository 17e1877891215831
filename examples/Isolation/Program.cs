// What a container sees and may use: run on a runner with the bubblewrap backend, each container has its own processes,
// a read-only system, a private /tmp, its Volumes at the paths it asked for, a memory limit and (on request) no network;
// it runs as a non-root uid without capabilities, under a seccomp profile, with egress through a network of its own.
// Deploy it with `modal deploy examples/Isolation`; the platform's isolation tests call these functions.
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Modal;

var app = new App("example-isolation");
var data = new Dictionary<string, string> { ["/data"] = "example-isolation-data" };

// "bubblewrap" in an isolated container, "none" where the runner fell back to plain processes.
var isolation = app.Function("isolation", () => Environment.GetEnvironmentVariable("MODAL_ISOLATION") ?? "(unset)");

// Which of these paths exist in here ("path=visible" or "path=absent", one per line).
app.Function("look", (string paths) => string.Join('\n', paths.Split('\n', StringSplitOptions.RemoveEmptyEntries)
    .Select(path => $"{path}={(Path.Exists(path) ? "visible" : "absent")}")));

// Leaves a file in this container's /tmp, where no other container should find it.
app.Function("write_tmp", (string name) =>
{
    File.WriteAllText(Path.Combine("/tmp", name), "private");
    return File.Exists(Path.Combine("/tmp", name));
});

// The processes this container sees, as "pid:name" (its own pid namespace: only its own).
app.Function("processes", () => string.Join(',', Directory.EnumerateDirectories("/proc")
    .Select(Path.GetFileName)
    .Where(name => name is { Length: > 0 } && name.All(char.IsAsciiDigit))
    .Select(pid => $"{pid}:{ReadOrEmpty($"/proc/{pid}/comm").Trim()}")));

// Holds a value in its environment, as a secret would be: other containers must not find it.
app.Function("hold", () => Environment.GetEnvironmentVariable("ISOLATION_HELD") ?? "(unset)",
    new FunctionOptions { Env = new Dictionary<string, string> { ["ISOLATION_HELD"] = "held-by-another-function-7f3a" } });

// How many processes visible from here carry the value in their environment (itself excluded).
app.Function("find_environment_value", (string value) => Directory.EnumerateDirectories("/proc")
    .Select(Path.GetFileName)
    .Where(name => name is { Length: > 0 } && name.All(char.IsAsciiDigit) && name != Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
    .Count(pid => ReadOrEmpty($"/proc/{pid}/environ").Contains(value, StringComparison.Ordinal)));

// Writes /data/{name} as user code does on Modal and commits it at once.
app.Function("write_data", async (string name, string text) =>
{
    await File.WriteAllTextAsync($"/data/{name}", text);
    await Volume.FromName(app.Client, "example-isolation-data").CommitAsync();
    return $"/data/{name}";
}, new FunctionOptions { Volumes = data });

app.Function("read_data", async (string name) =>
{
    await Volume.FromName(app.Client, "example-isolation-data").ReloadAsync();
    return File.Exists($"/data/{name}") ? await File.ReadAllTextAsync($"/data/{name}") : "(missing)";
}, new FunctionOptions { Volumes = data });

// Allocates and touches {mib} MiB: past the 160 MiB limit the container is killed and the call fails out of memory.
app.Function("allocate", (int mib) =>
{
    var blocks = new List<byte[]>();
    for (var i = 0; i < mib; i++)
    {
        var block = new byte[1 << 20];
        for (var page = 0; page < block.Length; page += 4096)
        {
            block[page] = 1;
        }
        blocks.Add(block);
    }
    return blocks.Count;
}, new FunctionOptions { MemoryMiB = 160 });

// A TCP connection to host:port, with and without a network of its own.
app.Function("connect", async (string host, int port) => await ConnectAsync(host, port));
app.Function("connect_blocked", async (string host, int port) => await ConnectAsync(host, port), new FunctionOptions { BlockNetwork = true });

// Puts {value} under "from-container" in a Dict of the platform (through the platform socket).
app.Function("dict_put", async (string dict, string value) =>
{
    await Dict.FromName(app.Client, dict, createIfMissing: true).PutAsync("from-container", value);
    return value;
});

// Everything a function does on the platform, from a container without network: the platform socket carries it all.
// Puts {value} in a Dict and a Queue (read back), calls a function of its app, writes /data/{file} and commits it.
app.Function("platform_blocked", async (string name, string value) =>
{
    var dict = Dict.FromName(app.Client, name, createIfMissing: true);
    await dict.PutAsync("from-container", value);
    var queue = Queue.FromName(app.Client, name, createIfMissing: true);
    await queue.PutAsync(value);
    await File.WriteAllTextAsync($"/data/{name}.txt", value);
    await Volume.FromName(app.Client, "example-isolation-data").CommitAsync();
    return string.Join('|', await dict.GetAsync<string>("from-container"), await queue.GetAsync<string>(), await isolation.RemoteAsync());
}, new FunctionOptions { BlockNetwork = true, Volumes = data });

// Its container's token ("id:secret"), from a container used once: the token must die when the container stops.
app.Function("token_once", () =>
    $"{Environment.GetEnvironmentVariable("MODAL_TOKEN_ID")}:{Environment.GetEnvironmentVariable("MODAL_TOKEN_SECRET")}",
    new FunctionOptions { SingleUseContainers = true });

// Who the container runs as: "uid=… capeff=…" from /proc/self/status (a non-root uid without capabilities).
app.Function("identity", () =>
{
    var status = File.ReadAllLines("/proc/self/status");
    string Field(string name) => status.First(line => line.StartsWith(name + ":", StringComparison.Ordinal)).Split('\t', 2)[1].Split('\t')[0].Trim();
    return $"uid={Field("Uid")} capeff={Field("CapEff")}";
});

// Reads a file: "read" or "denied: …" (/etc/shadow is root's).
app.Function("read_file", (string path) =>
{
    try
    {
        File.ReadAllText(path);
        return "read";
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        return $"denied: {e.Message}";
    }
});

// System calls a container never needs, each "name=OK" or "name=<errno name>": the seccomp profile answers EPERM.
app.Function("forbidden_calls", () => string.Join(',',
    Try("mount", () => Native.Mount("none", "/tmp", "tmpfs", 0, IntPtr.Zero)),
    Try("raw_socket", () => Native.Socket(2 /* AF_INET */, 3 /* SOCK_RAW */, 1 /* ICMP */)),
    Try("packet_socket", () => Native.Socket(17 /* AF_PACKET */, 2 /* SOCK_DGRAM */, 0)),
    Try("ptrace", () => (int)Native.Ptrace(0 /* PTRACE_TRACEME */, 0, IntPtr.Zero, IntPtr.Zero)),
    // Allowed to any user where unprivileged user namespaces are: refused only by the profile.
    Try("unshare_user", () => Native.Unshare(0x10000000 /* CLONE_NEWUSER */))));

// An HTTP GET with a 5 s timeout: "<status> <body>" or "failed: …".
app.Function("http_get", async (string url) => await GetAsync(url));
app.Function("http_get_blocked", async (string url) => await GetAsync(url), new FunctionOptions { BlockNetwork = true });

// The size of the container's writable /tmp, in bytes.
app.Function("tmp_size", () => new DriveInfo("/tmp").TotalSize);

return await app.RunAsync(args);

static string Try(string name, Func<int> call) =>
    call() >= 0 ? $"{name}=OK" : $"{name}={(Marshal.GetLastPInvokeError() == 1 ? "EPERM" : $"errno {Marshal.GetLastPInvokeError()}")}";

static async Task<string> GetAsync(string url)
{
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
    try
    {
        using var response = await http.GetAsync(new Uri(url));
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }
    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
    {
        return $"failed: {e.Message}";
    }
}

static string ReadOrEmpty(string path)
{
    try
    {
        return File.ReadAllText(path);
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        return "";
    }
}

static async Task<string> ConnectAsync(string host, int port)
{
    using var client = new TcpClient();
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
    try
    {
        await client.ConnectAsync(host, port, timeout.Token);
        return "connected";
    }
    catch (Exception e) when (e is SocketException or OperationCanceledException)
    {
        return $"failed: {e.Message}";
    }
}

internal static partial class Native
{
    [LibraryImport("libc", EntryPoint = "mount", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Mount(string source, string target, string type, ulong flags, IntPtr data);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "ptrace", SetLastError = true)]
    internal static partial long Ptrace(long request, int pid, IntPtr address, IntPtr data);

    [LibraryImport("libc", EntryPoint = "unshare", SetLastError = true)]
    internal static partial int Unshare(int flags);
}
