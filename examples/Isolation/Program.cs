// What a container sees and may use: run on a runner with the bubblewrap backend, each container has its own processes,
// a read-only system, a private /tmp, its Volumes at the paths it asked for, a memory limit and (on request) no network.
// Deploy it with `modal deploy examples/Isolation`; the platform's isolation tests call these functions.
using System.Net.Sockets;
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

return await app.RunAsync(args);

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
