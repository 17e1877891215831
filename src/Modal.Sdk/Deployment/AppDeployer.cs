using Modal.Api.Contracts.Apps;
using Modal.Rest;

namespace Modal.Deployment;

/// <summary>The result of a deployment.</summary>
/// <param name="App">The app as the platform registered it.</param>
/// <param name="Bundle">The uploaded code.</param>
/// <param name="UploadedBlobs">Blobs sent (0 when nothing changed since the last deploy).</param>
/// <param name="Manifest">The functions as the program described them (their schedules included, which an ephemeral app does not run).</param>
/// <param name="BuiltImageSteps">Image steps this deploy built (0 when every image was built before).</param>
public sealed record DeploymentResult(DeployedAppInfo App, Bundle Bundle, int UploadedBlobs, AppManifest? Manifest = null, int BuiltImageSteps = 0);

/// <summary>
/// What <c>modal deploy</c> and <c>modal run</c> do with a built app: bundle its folder, upload the files the platform
/// lacks (through the Api's <c>/v1/blobs</c>), ask the program to describe its functions, store the secrets it defines
/// (through <c>/v1/secrets</c>), and register the functions.
/// </summary>
public static class AppDeployer
{
    /// <summary>Deploys the app built into <paramref name="buildDirectory"/>.</summary>
    /// <param name="client">The connection to the platform.</param>
    /// <param name="buildDirectory">A <c>dotnet publish</c> (or build) output folder.</param>
    /// <param name="entryAssembly">The app's entry assembly in that folder, e.g. <c>HelloWorld.dll</c>.</param>
    /// <param name="ephemeral">
    /// True for <c>modal run</c>: a new app of its own (even beside a deployed app of the same name), reached by its id,
    /// that lives while the run does.
    /// </param>
    /// <param name="cancellationToken">Cancels the deployment.</param>
    /// <param name="buildLog">Receives the image build logs line by line as they come; null drops them.</param>
    /// <exception cref="ImageBuildException">An image step failed; nothing of the app changed.</exception>
    public static async Task<DeploymentResult> DeployAsync(
        ModalClient client, string buildDirectory, string entryAssembly, bool ephemeral = false, Action<string>? buildLog = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var bundle = await Bundle.FromDirectoryAsync(buildDirectory, entryAssembly, cancellationToken).ConfigureAwait(false);
        var uploaded = await BundleUploader.UploadAsync(bundle, client.Http, cancellationToken).ConfigureAwait(false);
        var manifest = await AppDescriber.DescribeAsync(Path.Combine(buildDirectory, entryAssembly), cancellationToken).ConfigureAwait(false);
        // Images first: a failing step stops the deploy before anything of the app changes.
        var builtSteps = await Images.ImageBuilds.BuildAsync(client, manifest, buildLog, cancellationToken).ConfigureAwait(false);
        await manifest.StoreLocalSecretsAsync(client, cancellationToken).ConfigureAwait(false);
        var app = ephemeral
            ? await client.Apps.CreateEphemeralAsync(new CreateAppRequest(manifest.Name, manifest.Functions, bundle.Id), cancellationToken).ConfigureAwait(false)
            : await client.Apps.DeployAsync(manifest.Name, new DeployAppRequest(manifest.Functions, bundle.Id), cancellationToken).ConfigureAwait(false);
        return new DeploymentResult(app, bundle, uploaded, manifest, builtSteps);
    }

    /// <summary>The entry assembly of a build output folder: the one program whose <c>.runtimeconfig.json</c> is there.</summary>
    /// <param name="buildDirectory">The folder.</param>
    /// <exception cref="InvalidOperationException">None or several programs are in the folder.</exception>
    public static string FindEntryAssembly(string buildDirectory)
    {
        var programs = Directory.GetFiles(buildDirectory, "*.runtimeconfig.json")
            .Select(path => Path.GetFileName(path)[..^".runtimeconfig.json".Length] + ".dll")
            .Where(dll => File.Exists(Path.Combine(buildDirectory, dll)))
            .ToList();
        return programs.Count == 1
            ? programs[0]
            : throw new InvalidOperationException(
                $"'{buildDirectory}' holds {programs.Count} programs ({string.Join(", ", programs)}); expected exactly one app.");
    }
}
