// The batch job: 100 texts mapped through a small embedding model that the example defines and seeds itself (no
// model hub, no download), across up to 10 containers. Run it with `modal run examples/BatchEmbeddings`.
using BatchEmbeddings;
using Modal;
using Modal.Torch;

var app = new App("example-batch-embeddings");
TorchDevice.EnsureAtStart();

var embed = app.Function("embed", (string text) => Embedder.Shared.Encode(text),
    new FunctionOptions { MaxContainers = 10, Cpu = 1, MemoryMiB = 1024 });

app.LocalEntrypoint(async () =>
{
    var texts = Enumerable.Range(0, 100).Select(i => $"Document {i}: sample text about item {i % 7}.");
    var vectors = await embed.MapAsync(texts).ToListAsync();
    Console.WriteLine($"Generated {vectors.Count} embeddings of dim {vectors[0].Length}");
});

return await app.RunAsync(args);
