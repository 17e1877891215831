using Modal.Torch;
using System.Text;
using TorchSharp;
using static TorchSharp.torch.nn;

namespace BatchEmbeddings;

/// <summary>
/// Hashed word embeddings, averaged, projected and normalised: weights from a fixed seed, so every container of
/// every run computes the same vector for the same text.
/// </summary>
public sealed class Embedder : IDisposable
{
    public const int Dimension = 32;
    private const int Buckets = 4096;
    private static readonly Lazy<Embedder> Instance = new(() => new Embedder());

    private readonly Module<torch.Tensor, torch.Tensor> _embedding;
    private readonly Module<torch.Tensor, torch.Tensor> _projection;
    private readonly torch.Device _device = TorchDevice.Current;
    private readonly Lock _lock = new();

    private Embedder()
    {
        torch.manual_seed(42);
        _embedding = Embedding(Buckets, 64).to(_device);
        _projection = Linear(64, Dimension).to(_device);
    }

    /// <summary>The container's model (built once, on first use).</summary>
    public static Embedder Shared => Instance.Value;

    public float[] Encode(string text)
    {
        var ids = Tokens(text).Select(t => (long)(Fnv1a(t) % Buckets)).DefaultIfEmpty(0).ToArray();
        lock (_lock)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var pooled = _embedding.call(torch.tensor(ids, device: _device)).mean([0]);
            var vector = functional.normalize(_projection.call(pooled).tanh().unsqueeze(0)).squeeze(0);
            return vector.cpu().data<float>().ToArray();
        }
    }

    public void Dispose()
    {
        _embedding.Dispose();
        _projection.Dispose();
    }

    private static string[] Tokens(string text) =>
        text.ToLowerInvariant().Split((char[])[' ', '.', ',', ':', ';', '!', '?', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);

    // Stable across processes, unlike string.GetHashCode.
    private static uint Fnv1a(string token)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(token))
        {
            hash = (hash ^ b) * 16777619u;
        }
        return hash;
    }
}
