// Trains a small MLP, checkpointing to a Volume after every epoch; the next run resumes from the last checkpoint.
// Run it with `modal run examples/TrainMlp` (twice: the second run starts where the first stopped).
using Modal;
using Modal.Torch;
using TrainMlp;

var app = new App("example-train-mlp");
TorchDevice.EnsureAtStart();

var train = app.Function("train", (string run, int epochs) => Trainer.TrainAsync(run, epochs), new FunctionOptions
{
    Cpu = 1,
    MemoryMiB = 1024,
    Timeout = TimeSpan.FromMinutes(30),
    Volumes = new Dictionary<string, string> { [Trainer.CheckpointRoot] = Trainer.VolumeName },
});

app.LocalEntrypoint(async () =>
{
    var report = await train.RemoteAsync("demo", 3);
    Console.WriteLine($"epochs {report.StartEpoch} → {report.EndEpoch}: loss {report.InitialLoss:0.0000} → {report.FinalLoss:0.0000}");
});

return await app.RunAsync(args);
