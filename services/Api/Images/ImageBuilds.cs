using System.Runtime.CompilerServices;
using MassTransit;
using Modal.Api.Contracts.Images;
using Modal.Contracts.Images;

namespace Modal.Api.Images;

/// <summary>
/// Gets an image of a workspace built: answers at once when every step is built; otherwise claims the image's build
/// (one build at a time per image, whoever asks), sends <see cref="BuildImage"/> to the runners and follows the build's
/// log until its outcome. A deploy that finds the claim taken follows that build instead of starting another.
/// </summary>
public sealed class ImageBuilds(ImageStore store, ISendEndpointProvider sendEndpoints)
{
    /// <summary>Longest an image build may run on a runner (<c>GpuRunner:ImageBuildTimeout</c> should not exceed it).</summary>
    public static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(30);

    // The claim outlives the build's own timeout a little, so a runner's late outcome still finds it.
    private static readonly TimeSpan ClaimLease = BuildTimeout + TimeSpan.FromMinutes(2);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(150);

    /// <summary>The build's log lines as they come, then its outcome (always the last event).</summary>
    public async IAsyncEnumerable<ImageBuildEvent> BuildAsync(
        Guid workspaceId, ImageManifest image, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + ClaimLease;
        while (true)
        {
            var layers = await store.GetLayersAsync(workspaceId, [.. image.Steps.Select(s => s.Key)]);
            if (layers.All(l => l is not null))
            {
                await store.TouchImageAsync(workspaceId, image, layers[^1]!);
                yield return new ImageBuildEvent(Result: new ImageBuildResult(image.Id, true, 0, SizeBytes: layers[^1]!.SizeBytes));
                yield break;
            }
            var buildId = Guid.CreateVersion7();
            if (await store.ClaimAsync(workspaceId, image.Id, buildId, ClaimLease))
            {
                var queue = await sendEndpoints.GetSendEndpoint(new Uri($"queue:{BuildImage.QueueName}"));
                await queue.Send(ToCommand(workspaceId, buildId, image, layers), cancellationToken);
            }
            else if (await store.ClaimedByAsync(workspaceId, image.Id) is { } running)
            {
                buildId = running;
            }
            else
            {
                continue; // The claim ended between the two reads: look at the layers again.
            }

            ImageBuildResult? result = null;
            var after = "0-0";
            while (result is null)
            {
                if (DateTimeOffset.UtcNow > deadline)
                {
                    result = new ImageBuildResult(image.Id, false, 0, Error: $"No runner finished the build within {ClaimLease.TotalMinutes} minutes.");
                    break;
                }
                var entries = await store.ReadLogAsync(buildId, after);
                foreach (var (id, buildEvent) in entries)
                {
                    after = id;
                    if (buildEvent.Result is { } outcome)
                    {
                        result = outcome;
                        break;
                    }
                    yield return buildEvent;
                }
                if (result is null && entries.Count == 0)
                {
                    await Task.Delay(PollInterval, cancellationToken);
                }
            }
            if (result.Succeeded && result.ImageId != image.Id)
            {
                continue; // Not expected (claims are per image), but then this image's own layers decide.
            }
            if (result.Succeeded)
            {
                var built = await store.GetLayersAsync(workspaceId, [image.Id]);
                if (built[0] is { } last)
                {
                    await store.TouchImageAsync(workspaceId, image, last);
                }
            }
            yield return new ImageBuildEvent(Result: result);
            yield break;
        }
    }

    private static BuildImage ToCommand(Guid workspaceId, Guid buildId, ImageManifest image, IReadOnlyList<ImageLayer?> layers) => new()
    {
        WorkspaceId = workspaceId,
        BuildId = buildId,
        ImageId = image.Id,
        Steps = image.Steps.Select((step, i) => new ImageBuildStep
        {
            Key = step.Key,
            Kind = step.Kind,
            Args = step.Args,
            Files = (step.Files ?? []).Select(f => new ImageBuildFile { Path = f.Path, Sha256 = f.Sha256, Mode = f.Mode }).ToList(),
            Description = ImageStepKinds.Describe(step),
            Layer = layers[i],
        }).ToList(),
    };
}
