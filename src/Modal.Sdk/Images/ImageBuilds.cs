using System.Net.Http.Json;
using System.Text.Json;
using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Images;
using Modal.Deployment;

namespace Modal.Images;

/// <summary>
/// What a deploy does before registering an app: uploads the local files its images bake in (content-addressed, as a
/// bundle's), then asks the platform to build each image (<c>POST /v1/images</c>), streaming the build log. Steps built
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
            built += (await BuildOneAsync(client.Http, image, log, cancellationToken).ConfigureAwait(false)).BuiltSteps;
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

    private static async Task<ImageBuildResult> BuildOneAsync(HttpClient http, ImageManifest image, Action<string>? log, CancellationToken cancellationToken)
    {
        // The local paths stay on this machine.
        var request = new BuildImageRequest(image with
        {
            Steps = [.. image.Steps.Select(s => s with { Files = s.Files?.Select(f => f with { LocalPath = null }).ToList() })],
        });
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri("/v1/images", UriKind.Relative))
        {
            Content = JsonContent.Create(request, options: App.SerializerOptions),
        };
        using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new ImageBuildException(image.Id, null, $"The platform refused to build image {image.Id[..12]} ({(int)response.StatusCode}): {problem}");
        }
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            var buildEvent = JsonSerializer.Deserialize<ImageBuildEvent>(line, App.SerializerOptions);
            if (buildEvent?.Log is { } text)
            {
                log?.Invoke(text);
            }
            if (buildEvent?.Result is { } result)
            {
                return result.Succeeded
                    ? result
                    : throw new ImageBuildException(image.Id, result.FailedStep,
                        $"Image {image.Id[..12]} failed at step {result.FailedStep} {result.FailedStepDescription}: {result.Error}");
            }
        }
        throw new ImageBuildException(image.Id, null, $"The build of image {image.Id[..12]} ended without an outcome (the connection closed).");
    }
}
