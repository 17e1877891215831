using Modal.Torch;
using System.Text.Json;
using Modal.Volumes;
using TorchSharp;
using static TorchSharp.torch.nn;

namespace TrainMlp;

/// <summary>What one run did: the epochs it trained (it resumed at <see cref="StartEpoch"/>) and the loss before and after.</summary>
public sealed record TrainingReport(int StartEpoch, int EndEpoch, double InitialLoss, double FinalLoss);

public static class Trainer
{
    public const string CheckpointRoot = "/checkpoints";
    public const string VolumeName = "example-train-mlp";
    private const int StepsPerEpoch = 40;

    private sealed record Checkpoint(int Epoch, double Loss);

    public static async Task<TrainingReport> TrainAsync(string run, int epochs)
    {
        var folder = VolumeMounts.LocalPath($"{CheckpointRoot}/{run}");
        Directory.CreateDirectory(folder);
        var weights = Path.Combine(folder, "model.bin");
        var state = Path.Combine(folder, "checkpoint.json");
        var device = TorchDevice.Current;

        torch.manual_seed(0);
        using var model = Sequential(("in", Linear(8, 64)), ("relu", ReLU()), ("out", Linear(64, 1)));
        var start = 0;
        if (File.Exists(state) && File.Exists(weights))
        {
            model.load(weights);
            start = JsonSerializer.Deserialize<Checkpoint>(await File.ReadAllTextAsync(state))!.Epoch;
        }
        model.to(device);

        // The same data every run: what changes between runs is only how far the model has got.
        var generator = new torch.Generator(seed: 1);
        using var x = torch.randn(512, 8, generator: generator).to(device);
        using var y = (x[.., ..4].sum(1, keepdim: true) - x[.., 4..].pow(2).sum(1, keepdim: true) * 0.5).to(device);
        using var optimizer = torch.optim.SGD(model.parameters(), 0.01);

        var initial = Loss(model, x, y);
        var loss = initial;
        for (var epoch = start; epoch < start + epochs; epoch++)
        {
            for (var step = 0; step < StepsPerEpoch; step++)
            {
                using var scope = torch.NewDisposeScope();
                optimizer.zero_grad();
                functional.mse_loss(model.call(x), y).backward();
                optimizer.step();
            }
            loss = Loss(model, x, y);
            // Written aside and moved, so a container killed mid-write leaves the previous checkpoint whole.
            model.save(weights + ".tmp");
            File.Move(weights + ".tmp", weights, overwrite: true);
            await File.WriteAllTextAsync(state, JsonSerializer.Serialize(new Checkpoint(epoch + 1, loss)));
            await CommitAsync();
        }
        return new TrainingReport(start, start + epochs, initial, loss);
    }

    private static double Loss(Module<torch.Tensor, torch.Tensor> model, torch.Tensor x, torch.Tensor y)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        return functional.mse_loss(model.call(x), y).item<float>();
    }

    /// <summary>Publishes the epoch's checkpoint now when the container reaches the platform (else when it stops).</summary>
    private static async Task CommitAsync()
    {
        if (Environment.GetEnvironmentVariable("MODAL_SERVER_URL") is { Length: > 0 })
        {
            await Modal.Volume.FromName(Modal.ModalClient.FromEnvironment(), VolumeName).CommitAsync();
        }
    }
}
