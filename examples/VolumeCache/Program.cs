// Modal's model-cache pattern: the first call fetches a model into a Volume, later calls (in any container) read it
// from there. Deploy it with `modal deploy examples/VolumeCache`.
using Modal;
using Modal.Volumes;

var app = new App("example-volume-cache");
var options = new FunctionOptions { Volumes = new Dictionary<string, string> { ["/models"] = "example-models" } };

app.Function("load_model", async () =>
{
    // Isolated containers see the Volume at /models itself; a runner without isolation keeps it in a folder of its own,
    // which LocalPath resolves (it returns the path unchanged under isolation).
    var path = VolumeMounts.LocalPath("/models/resnet/model.bin");
    if (File.Exists(path))
    {
        return $"cached {new FileInfo(path).Length} bytes";
    }
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    // Stands in for a download from a model hub.
    await File.WriteAllBytesAsync(path, Enumerable.Range(0, 1 << 20).Select(i => (byte)i).ToArray());
    // Publish it now when the container can reach the Api; otherwise it is committed when the container stops.
    if (Environment.GetEnvironmentVariable("MODAL_SERVER_URL") is { Length: > 0 })
    {
        await Volume.FromName(ModalClient.FromEnvironment(), "example-models").CommitAsync();
    }
    return "downloaded";
}, options);

app.Function("read_note", (string name) =>
{
    var path = VolumeMounts.LocalPath($"/models/{name}");
    return File.Exists(path) ? File.ReadAllText(path) : "(missing)";
}, options);

return await app.RunAsync(args);
