using Modal.Api.Domain;
using Modal.Contracts.Apps;
using Modal.Contracts.Web;

namespace Modal.Api.Apps;

/// <summary>Turns a stored app into the event runners act on.</summary>
public static class AppDeployments
{
    public static AppDeployed ToEvent(DeployedApp app, IEnumerable<DeployedFunction> functions, DateTimeOffset deployedAt) => new()
    {
        WorkspaceId = app.WorkspaceId,
        AppId = app.Id,
        AppName = app.Name,
        BundleId = app.BundleId ?? throw new InvalidOperationException($"App '{app.Name}' has no bundle to run."),
        DeployedAt = deployedAt,
        Version = app.Version,
        Functions = functions.Select(function =>
        {
            var signature = FunctionSignature.Parse(function.ManifestJson);
            var retries = signature.Retries;
            return new DeployedFunctionSpec
            {
                FunctionId = function.Id,
                Name = function.Name,
                // A batched function gathers its batches from inputs running at once, so it takes a batch's worth.
                MaxConcurrentInputs = Math.Max(1, Math.Max(signature.MaxConcurrentInputs, signature.BatchMaxSize ?? 0)),
                Timeout = signature.Timeout,
                MaxRetries = retries?.MaxRetries ?? 0,
                BackoffCoefficient = retries?.BackoffCoefficient ?? 1,
                InitialDelay = TimeSpan.FromSeconds(retries?.InitialDelaySeconds ?? 1),
                MaxDelay = TimeSpan.FromSeconds(retries?.MaxDelaySeconds ?? 60),
                Env = signature.Env ?? new Dictionary<string, string>(),
                ClassName = signature.ClassName,
                Gpu = signature.Gpu,
                GpuFallbacks = signature.GpuFallbacks ?? [],
                Volumes = signature.Volumes ?? new Dictionary<string, string>(),
                Cpu = signature.Cpu,
                MemoryMiB = signature.MemoryMiB,
                BlockNetwork = signature.BlockNetwork,
                Secrets = (signature.Secrets ?? [])
                    .Select(secret => new SecretReference { Name = secret.Name, RequiredKeys = secret.RequiredKeys ?? [] }).ToList(),
                MinContainers = signature.MinContainers,
                MaxContainers = signature.MaxContainers,
                BufferContainers = signature.BufferContainers,
                ScaledownWindow = TimeSpan.FromSeconds(signature.ScaledownWindowSeconds),
                SingleUseContainers = signature.SingleUseContainers,
                Web = signature.Web is { } web
                    ? new WebEndpointSpec { Kind = web.Kind, Port = web.Port, StartupTimeout = TimeSpan.FromSeconds(web.StartupTimeoutSeconds) }
                    : null,
                // Schedules run only while an app is deployed: a `modal run` registers none.
                Schedule = !app.Ephemeral && signature.Schedule is { } schedule ? Schedules.FunctionSchedules.ToSpec(schedule).Spec : null,
                Image = signature.ImageRoot,
            };
        }).ToList(),
    };
}
