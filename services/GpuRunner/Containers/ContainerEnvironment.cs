using Microsoft.Extensions.Options;
using Modal.Api.Contracts.Apps;
using Modal.Container.Protocol;
using Modal.Contracts.Runners;
using Modal.GpuRunner.Domain;
using Modal.GpuRunner.Secrets;

namespace Modal.GpuRunner.Containers;

/// <summary>The environment a container of a function starts with: the site's settings, the function's own, its secrets, its credentials and its GPUs.</summary>
public sealed class ContainerEnvironment(ContainerSecrets secrets, ContainerCredentials credentials, IOptions<GpuRunnerOptions> options)
{
    /// <summary>The variables for a container of <paramref name="entry"/> holding <paramref name="gpus"/>.</summary>
    public async Task<Dictionary<string, string>> ForAsync(CatalogEntry entry, IReadOnlyList<RunnerGpu> gpus, CancellationToken cancellationToken)
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
        foreach (var (name, value) in await credentials.EnvironmentForAsync(entry, cancellationToken))
        {
            environment[name] = value;
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
