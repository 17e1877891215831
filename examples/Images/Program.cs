// Container images defined in code, as Modal's `modal.Image.debian_slim().apt_install(...)`: the functions below run
// with a Debian 12 root file system built on the platform, with jq installed, a local file baked in and a variable set.
// Run it with `modal run examples/Images` (the first build takes a minute or two; later deploys build nothing).
using System.ComponentModel;
using System.Diagnostics;
using Modal;

var app = new App(Environment.GetEnvironmentVariable("MODAL_EXAMPLE_IMAGES_APP") ?? "example-images");

var image = Image.DebianSlim()
    .AptInstall("jq", "hello")
    .AddLocalFile(Path.Combine(AppContext.BaseDirectory, "baked.txt"), "/etc/modal-example/baked.txt")
    .Env(new Dictionary<string, string> { ["GREETING"] = "set by the image" });
// The platform's tests vary the image through the environment of the deploy: one more step, or one that fails.
if (Environment.GetEnvironmentVariable("MODAL_EXAMPLE_IMAGES_EXTRA") is { Length: > 0 } extra)
{
    image = image.RunCommands(extra);
}

var inImage = new FunctionOptions { Image = image };

// jq and GNU hello come from the image's own /usr/bin, not the node's.
var jqVersion = app.Function("jq_version", () => Run("jq", "--version"), inImage);
app.Function("hello", () => Run("hello"), inImage);
app.Function("hello_without_image", () => Run("hello"));
var baked = app.Function("baked", () => $"{File.ReadAllText("/etc/modal-example/baked.txt").Trim()}|{Environment.GetEnvironmentVariable("GREETING")}", inImage);
app.Function("os_release", () => File.ReadAllLines("/etc/os-release").First(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal)), inImage);
app.Function("file", (string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : "(absent)", inImage);

app.LocalEntrypoint(async () =>
{
    Console.WriteLine(await jqVersion.RemoteAsync());
    Console.WriteLine(await baked.RemoteAsync());
});

return await app.RunAsync(args);

// Runs a program of the container's file system; "(absent)" when there is none of that name.
static string Run(string program, params string[] arguments)
{
    try
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }
    catch (Win32Exception)
    {
        return "(absent)";
    }
}
