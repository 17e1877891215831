using Microsoft.Extensions.Options;
using Modal.Api.Contracts.Apps;
using Modal.Container.Protocol;
using Modal.Contracts.Apps;
using Modal.Contracts.Runners;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Secrets;

namespace Modal.GpuRunner.Containers;

/// <summary>The environment a container of a function starts with: the site's settings, the function's own, its secrets, its credentials and its GPUs.</summary>
public sealed class ContainerEnvironment(ContainerSecrets secrets, IOptions<GpuRunnerOptions> options)
{
    /// <summary>
    /// The variables for a container of <paramref name="entry"/> holding <paramref name="gpus"/>, with its own
    /// <paramref name="token"/> (null: no platform access).
    /// </summary>
    public async Task<Dictionary<string, string>> ForAsync(
        CatalogEntry entry, IReadOnlyList<RunnerGpu> gpus, Task<ContainerToken?> token, CancellationToken cancellationToken)
    {
        // Site settings first, the function's own env over them, its secrets over that, then what the platform sets.
        var environment = new Dictionary<string, string>(options.Value.ContainerEnvironment);
        foreach (var (name, value) in entry.Function.Env)
        {
            environment[name] = value;
        }
        foreach (var (name, value) in await secrets.ResolveAsync(entry.WorkspaceId, entry.Function.Secrets, cancellationToken))
        {
            environment[name] = value;
        }
        // The Api's address stays the URL (the platform socket forwards by it); the token is the container's own.
        if (await token is { } own && options.Value.ApiUrl is { } api)
        {
            environment["MODAL_SERVER_URL"] = api.ToString();
            environment["MODAL_TOKEN_ID"] = own.TokenId;
            environment["MODAL_TOKEN_SECRET"] = own.TokenSecret;
        }
        // The app's own functions, called from inside, are this app's (an ephemeral run's), not a deployed namesake's.
        environment[ContainerProtocol.AppIdVariable] = AppIds.Format(entry.AppId);
        environment[ContainerProtocol.AppNameVariable] = entry.AppName;
        if (entry.Function.ClassName is { } className)
        {
            environment[ContainerProtocol.ClassVariable] = className;
        }
        // A container sees only the GPUs it holds (none when it asked for none), as on Modal.
        environment["CUDA_VISIBLE_DEVICES"] = string.Join(',', gpus.Select(gpu => gpu.Index));
        environment["NVIDIA_VISIBLE_DEVICES"] = gpus.Count == 0 ? "void" : string.Join(',', gpus.Select(gpu => gpu.Uuid));
        return environment;
    }
}
