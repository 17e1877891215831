using System.Threading.Channels;
using MassTransit;
using Microsoft.Extensions.Options;
using Modal.Contracts.Maps;

namespace Modal.GpuRunner.Calls;

/// <summary>
/// Publishes map outputs for the whole runner: outputs of every slice of a map running here go out together, up to
/// <see cref="MaxBatch"/> per message and at most <see cref="Linger"/> after the first. A per-slice batcher would send
/// about one message per output when many slices share a container's slots, which costs the broker, the Api and this
/// runner a message per input. Each output's task completes once its message is on the bus, so a slice is acknowledged
/// only after its outputs are.
/// </summary>
public sealed class MapOutputPublisher : IAsyncDisposable
{
    public const int MaxBatch = 512;

    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(25);

    private readonly IBus _bus;
    private readonly string _runnerId;
    private readonly Channel<PendingOutput> _outputs = Channel.CreateUnbounded<PendingOutput>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _publishing;

    public MapOutputPublisher(IBus bus, IOptions<GpuRunnerOptions> options)
    {
        _bus = bus;
        _runnerId = options.Value.RunnerId;
        _publishing = PublishLoopAsync();
    }

    /// <summary>Queues an output; completes when it has been published (faults if publishing failed).</summary>
    public Task PublishAsync(string mapId, MapOutput output)
    {
        var published = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _outputs.Writer.TryWrite(new PendingOutput(mapId, output, published))
            ? published.Task
            : Task.FromException(new InvalidOperationException("The runner is stopping; the output was not published."));
    }

    private async Task PublishLoopAsync()
    {
        var batch = new List<PendingOutput>(MaxBatch);
        while (await _outputs.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var deadline = Task.Delay(Linger);
            while (batch.Count < MaxBatch)
            {
                if (_outputs.Reader.TryRead(out var output))
                {
                    batch.Add(output);
                    continue;
                }
                var more = _outputs.Reader.WaitToReadAsync().AsTask();
                if (await Task.WhenAny(more, deadline).ConfigureAwait(false) == deadline || !await more.ConfigureAwait(false))
                {
                    break;
                }
            }
            await Task.WhenAll(batch.GroupBy(output => output.MapId).Select(PublishAsync)).ConfigureAwait(false);
            batch.Clear();
        }
    }

    private async Task PublishAsync(IGrouping<string, PendingOutput> outputs)
    {
        // Output batches are map data, traced no more than the slices that made them (see Api:TraceMapData).
        using var untraced = Modal.ServiceDefaults.UnsampledTrace.Begin("map outputs");
        try
        {
            await _bus.Publish(new MapOutputsProduced { MapId = outputs.Key, RunnerId = _runnerId, Outputs = outputs.Select(o => o.Output).ToList() })
                .ConfigureAwait(false);
            foreach (var output in outputs)
            {
                output.Published.TrySetResult();
            }
        }
        catch (Exception e)
        {
            // The slices waiting on these outputs fail, so the broker delivers them again: nothing is lost.
            foreach (var output in outputs)
            {
                output.Published.TrySetException(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _outputs.Writer.TryComplete();
        await _publishing.ConfigureAwait(false);
    }

    private sealed record PendingOutput(string MapId, MapOutput Output, TaskCompletionSource Published);
}
