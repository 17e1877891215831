using Modal.Api.Contracts.Apps;
using Modal.Api.Contracts.Secrets;

namespace Modal.Deployment;

/// <summary>
/// The SDK's side of an <see cref="AppManifest"/>: building one from the program's function definitions, and storing the
/// secrets it defines. The manifest records are the REST contract; this is what connects them to <see cref="App"/>.
/// </summary>
public static class AppManifests
{
    /// <summary>
    /// Stores <see cref="AppManifest.LocalSecrets"/> as the workspace's secrets (replacing earlier values), before the
    /// functions that use them are registered.
    /// </summary>
    /// <param name="manifest">The app's manifest.</param>
    /// <param name="client">The connection.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    public static async Task StoreLocalSecretsAsync(this AppManifest manifest, ModalClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(client);
        foreach (var (name, values) in manifest.LocalSecrets ?? new Dictionary<string, IReadOnlyDictionary<string, string>>())
        {
            await StorageCalls.RunAsync(() => client.Secrets.ReplaceAsync(name, new SecretValuesRequest(values), cancellationToken)).ConfigureAwait(false);
        }
    }

    /// <summary>A function's wire form: its signature and options, with the secrets it uses already named.</summary>
    internal static FunctionManifest ForFunction(FunctionDefinition function, IReadOnlyList<SecretManifest> secrets, Image? appImage = null)
    {
        var o = function.Options;
        return new FunctionManifest(
            function.Name,
            function.Parameters.Select(p => new ParameterManifest(p.Name, p.Type.FullName ?? p.Type.Name)).ToList(),
            function.ResultType.FullName ?? function.ResultType.Name,
            o.Gpu, o.GpuFallbacks, o.Cpu, o.MemoryMiB, o.Timeout.TotalSeconds,
            o.Retries is { } r ? new RetriesManifest(r.MaxRetries, r.BackoffCoefficient, r.InitialDelay.TotalSeconds, r.MaxDelay.TotalSeconds) : null,
            secrets, o.Volumes, o.Env, o.MinContainers, o.MaxContainers, o.BufferContainers, o.ScaledownWindow.TotalSeconds,
            o.MaxConcurrentInputs, function.Class?.Name, function.Batching?.MaxBatchSize, function.Batching?.Wait.TotalMilliseconds,
            o.BlockNetwork, o.SingleUseContainers, function.Web, o.Schedule?.ToManifest(), (o.Image ?? appImage)?.ToManifest());
    }
}
