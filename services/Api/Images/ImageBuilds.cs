using MassTransit;
using Modal.Api.Contracts.Images;
using Modal.Contracts.Images;

namespace Modal.Api.Images;

/// <summary>
/// Gets an image of a workspace built: answers at once when every step is built; otherwise claims the image's build
/// (one build at a time per image, whoever asks) and sends <see cref="BuildImage"/> to the runners, or, when another
/// deploy holds the claim, joins that build instead of starting another. Either way the caller then reads the build's
/// log (<see cref="ImageStore.ReadLogAsync"/>) until its outcome.
/// </summary>
public sealed class ImageBuilds(ImageStore store, ISendEndpointProvider sendEndpoints)
{
    /// <summary>Longest an image build may run on a runner (<c>GpuRunner:ImageBuildTimeout</c> should not exceed it).</summary>
    public static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(30);

    // The claim outlives the build's own timeout a little, so a runner's late outcome still finds it.
    private static readonly TimeSpan ClaimLease = BuildTimeout + TimeSpan.FromMinutes(2);

    public async Task<ImageBuildStatus> StartAsync(Guid workspaceId, ImageManifest image, CancellationToken cancellationToken)
    {
        while (true)
        {
            var layers = await store.GetLayersAsync(workspaceId, [.. image.Steps.Select(s => s.Key)]);
            await store.TouchImageAsync(workspaceId, image, layers[^1]);
            if (layers[^1] is { } last)
            {
                return new ImageBuildStatus(image.Id, null, false, new ImageBuildResult(image.Id, true, 0, SizeBytes: last.SizeBytes));
            }
            var buildId = Guid.CreateVersion7();
            if (await store.ClaimAsync(workspaceId, image.Id, buildId, ClaimLease))
            {
                var queue = await sendEndpoints.GetSendEndpoint(new Uri($"queue:{BuildImage.QueueName}"));
                await queue.Send(ToCommand(workspaceId, buildId, image, layers), cancellationToken);
                return new ImageBuildStatus(image.Id, buildId, true, null);
            }
            if (await store.ClaimedByAsync(workspaceId, image.Id) is { } running)
            {
                return new ImageBuildStatus(image.Id, running, false, null);
            }
            // The claim ended between the two reads: look at the layers again.
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
