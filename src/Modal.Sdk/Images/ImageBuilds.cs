using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Images;
using Modal.Deployment;

namespace Modal.Images;

/// <summary>
/// What a deploy does before registering an app: uploads the local files its images bake in (content-addressed, as a
/// bundle's), then asks the platform to build each image (<c>POST /v1/images</c>), following the build log as it comes
/// (<c>GET /v1/images/builds/{id}</c>). Steps built
/// before are not built again; an image being built for another deploy is waited for, not built twice.
/// </summary>
public static class ImageBuilds
{
    /// <summary>Builds every image the manifest's functions use; returns how many steps were built.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="manifest">The app's manifest.</param>
    /// <param name="log">Receives each line of the build logs as it comes; null to drop them.</param>
    /// <param name="cancellationToken">Stops waiting (a build already started finishes on the platform).</param>
    /// <exception cref="ImageBuildException">A step failed: the message names it with the tail of its log.</exception>
    public static async Task<int> BuildAsync(ModalClient client, AppManifest manifest, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(manifest);
        var images = manifest.Functions.Select(f => f.Image).OfType<ImageManifest>().DistinctBy(i => i.Id).ToList();
        var built = 0;
        foreach (var image in images)
        {
            await UploadFilesAsync(client.Http, image, cancellationToken).ConfigureAwait(false);
            built += (await BuildOneAsync(client, image, log, cancellationToken).ConfigureAwait(false)).BuiltSteps;
        }
        return built;
    }

    private static async Task UploadFilesAsync(HttpClient http, ImageManifest image, CancellationToken cancellationToken)
    {
        var files = image.Steps.SelectMany(s => s.Files ?? []).Where(f => f.LocalPath is not null)
            .DistinctBy(f => f.Sha256).ToDictionary(f => f.Sha256, f => f.LocalPath!, StringComparer.Ordinal);
        if (files.Count > 0)
        {
            await BundleUploader.UploadFilesAsync(files, http, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<ImageBuildResult> BuildOneAsync(ModalClient client, ImageManifest image, Action<string>? log, CancellationToken cancellationToken)
    {
        // The local paths stay on this machine.
        var request = new BuildImageRequest(image with
        {
            Steps = [.. image.Steps.Select(s => s with { Files = s.Files?.Select(f => f with { LocalPath = null }).ToList() })],
        });
        ImageBuildStatus status;
        try
        {
            status = await client.Images.BuildAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Refit.ApiException e)
        {
            throw new ImageBuildException(image.Id, null, $"The platform refused to build image {image.Id[..12]} ({(int)e.StatusCode}): {e.Content}");
        }
        var result = status.Result;
        var after = (string?)null;
        var deadline = DateTimeOffset.UtcNow + FollowLimit;
        // The log is read in pages as it comes (short requests, so no proxy or client timeout cuts a long build off).
        while (result is null)
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new ImageBuildException(image.Id, null, $"The build of image {image.Id[..12]} had no outcome within {FollowLimit.TotalMinutes} minutes.");
            }
            var page = await client.Images.ReadBuildLogAsync(status.BuildId!.Value, after, cancellationToken).ConfigureAwait(false);
            after = page.Next;
            foreach (var buildEvent in page.Events)
            {
                if (buildEvent.Log is { } line)
                {
                    log?.Invoke(line);
                }
                result ??= buildEvent.Result;
            }
            if (result is null && page.Events.Count == 0)
            {
                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
        if (!result.Succeeded)
        {
            throw new ImageBuildException(image.Id, result.FailedStep,
                $"Image {image.Id[..12]} failed at step {result.FailedStep} {result.FailedStepDescription}: {result.Error}");
        }
        // A build another deploy started built nothing for this one.
        return status.Started ? result : result with { BuiltSteps = 0 };
    }

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    // The platform's build timeout (30 min at most) and a margin for a runner's late outcome.
    private static readonly TimeSpan FollowLimit = TimeSpan.FromMinutes(35);
}
