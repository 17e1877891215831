using System.Security.Cryptography;

namespace Modal.AppHost.Infrastructure;

/// <summary>
/// The install's own keys: the Secrets service's encryption key ring, the runner credential and the keys of the
/// workspace-scoped credentials of Storage and of the Secrets service. Generated on a fresh
/// install into <c>{data}/install-keys.env</c> (owner-readable only; never in the repository), read back on every
/// start. To rotate the encryption key, add a <c>Secrets__Keys__{newId}=…</c> line and point
/// <c>Secrets__ActiveKeyId</c> at it: the Secrets service re-seals old secrets at its next start; the old line can go
/// once it has.
/// </summary>
internal sealed class InstallKeys
{
    private const string ActiveKeyIdSetting = "Secrets__ActiveKeyId";
    private const string KeyPrefix = "Secrets__Keys__";
    private const string RunnerKeySetting = "Secrets__RunnerKey";
    private const string StorageCredentialKeySetting = "StorageCredentials__Key";
    private const string SecretCredentialKeySetting = "SecretCredentials__Key";

    private readonly Dictionary<string, string> _settings;

    private InstallKeys(Dictionary<string, string> settings) => _settings = settings;

    public static InstallKeys LoadOrCreate(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, "install-keys.env");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(dataDirectory);
            var keyId = $"k{DateTime.UtcNow:yyyyMMdd}";
            var lines = new[]
            {
                "# Keys of this install (see AppHost/Infrastructure/InstallKeys.cs). Losing Secrets__Keys__* loses every secret.",
                $"{ActiveKeyIdSetting}={keyId}",
                $"{KeyPrefix}{keyId}={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
                $"{RunnerKeySetting}={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}",
            };
            File.WriteAllLines(path, lines);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        // Installs made before Storage (or the Secrets service) checked credentials lack its key; a credential key
        // protects nothing stored, so adding one is safe.
        foreach (var setting in new[] { StorageCredentialKeySetting, SecretCredentialKeySetting })
        {
            if (!File.ReadAllLines(path).Any(line => line.StartsWith(setting + "=", StringComparison.Ordinal)))
            {
                File.AppendAllLines(path, [$"{setting}={Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}"]);
            }
        }
        var settings = File.ReadAllLines(path)
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0].Trim(), pair => pair[1].Trim(), StringComparer.Ordinal);
        if (!settings.ContainsKey(ActiveKeyIdSetting) || !settings.ContainsKey(RunnerKeySetting) || !settings.Keys.Any(k => k.StartsWith(KeyPrefix, StringComparison.Ordinal)))
        {
            throw new InvalidOperationException(
                $"'{path}' must set {ActiveKeyIdSetting}, {RunnerKeySetting} and at least one {KeyPrefix}{{id}}; delete it only on an install without secrets.");
        }
        return new InstallKeys(settings);
    }

    /// <summary>Gives the Secrets service its key ring and the runner credential (its <c>Secrets__*</c> settings), as secret parameters (masked in the dashboard).</summary>
    public IResourceBuilder<ProjectResource> ApplyToSecretsService(IResourceBuilder<ProjectResource> secrets)
    {
        foreach (var (name, value) in _settings.Where(s => s.Key.StartsWith("Secrets__", StringComparison.Ordinal)))
        {
            secrets.WithEnvironment(name, Parameter(secrets.ApplicationBuilder, name, value));
        }
        return secrets;
    }

    /// <summary>Gives a service the runner credential as <paramref name="setting"/>: a runner presents it, the Scheduler checks it.</summary>
    public IResourceBuilder<ProjectResource> ApplyRunnerKey(IResourceBuilder<ProjectResource> service, string setting) =>
        service.WithEnvironment(setting, Parameter(service.ApplicationBuilder, RunnerKeySetting, _settings[RunnerKeySetting]));

    /// <summary>Gives a service the key of the workspace-scoped Storage credentials (the Api issues them, Storage checks them, runners issue their own).</summary>
    public IResourceBuilder<ProjectResource> ApplyStorageCredentialKey(IResourceBuilder<ProjectResource> service) =>
        service.WithEnvironment(StorageCredentialKeySetting,
            Parameter(service.ApplicationBuilder, StorageCredentialKeySetting, _settings[StorageCredentialKeySetting]));

    /// <summary>Gives a service the key of the Secrets service's workspace credentials (the Api signs with it, the Secrets service checks it).</summary>
    public IResourceBuilder<ProjectResource> ApplySecretCredentialKey(IResourceBuilder<ProjectResource> service) =>
        service.WithEnvironment(SecretCredentialKeySetting,
            Parameter(service.ApplicationBuilder, SecretCredentialKeySetting, _settings[SecretCredentialKeySetting]));

    private static IResourceBuilder<ParameterResource> Parameter(IDistributedApplicationBuilder builder, string setting, string value)
    {
        var name = setting.Replace("__", "-", StringComparison.Ordinal).ToLowerInvariant();
        return builder.Resources.OfType<ParameterResource>().Any(p => p.Name == name)
            ? builder.CreateResourceBuilder(builder.Resources.OfType<ParameterResource>().Single(p => p.Name == name))
            : builder.AddParameter(name, value, secret: true);
    }
}

internal static class InstallKeysExtensions
{
    /// <summary>The Secrets service's encryption keys and the runner credential it accepts.</summary>
    public static IResourceBuilder<ProjectResource> WithSecretKeyRing(this IResourceBuilder<ProjectResource> secrets, InstallKeys keys) =>
        keys.ApplyToSecretsService(secrets);

    /// <summary>The credential a runner presents to the Secrets service to read the values of functions' secrets.</summary>
    public static IResourceBuilder<ProjectResource> WithRunnerKey(this IResourceBuilder<ProjectResource> runner, InstallKeys keys) =>
        keys.ApplyRunnerKey(runner, "GpuRunner__RunnerKey");

    /// <summary>The runner credential the Api's ingress presents to runners' web forwarders (<c>Api:RunnerKey</c>).</summary>
    public static IResourceBuilder<ProjectResource> WithIngressRunnerKey(this IResourceBuilder<ProjectResource> api, InstallKeys keys) =>
        keys.ApplyRunnerKey(api, "Api__RunnerKey");

    /// <summary>The runner credential the Scheduler requires of callers of its runner list (<c>GET /v1/runners</c>).</summary>
    public static IResourceBuilder<ProjectResource> WithRunnerListKey(this IResourceBuilder<ProjectResource> scheduler, InstallKeys keys) =>
        keys.ApplyRunnerKey(scheduler, "Scheduler__RunnerKey");

    /// <summary>The key of the workspace-scoped credentials with which clients and runners reach Storage directly.</summary>
    public static IResourceBuilder<ProjectResource> WithStorageCredentialKey(this IResourceBuilder<ProjectResource> service, InstallKeys keys) =>
        keys.ApplyStorageCredentialKey(service);

    /// <summary>The key of the credentials the Api signs onto every request it forwards to the Secrets service; no one else holds it.</summary>
    public static IResourceBuilder<ProjectResource> WithSecretCredentialKey(this IResourceBuilder<ProjectResource> service, InstallKeys keys) =>
        keys.ApplySecretCredentialKey(service);
}
