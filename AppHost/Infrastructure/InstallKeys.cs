using System.Security.Cryptography;

namespace Modal.AppHost.Infrastructure;

/// <summary>
/// The install's own keys: the Secrets service's encryption key ring and the runner credential. Generated on a fresh
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

    /// <summary>Gives the Secrets service its key ring and the runner credential, as secret parameters (masked in the dashboard).</summary>
    public IResourceBuilder<ProjectResource> ApplyToSecretsService(IResourceBuilder<ProjectResource> secrets)
    {
        foreach (var (name, value) in _settings)
        {
            secrets.WithEnvironment(name, Parameter(secrets.ApplicationBuilder, name, value));
        }
        return secrets;
    }

    /// <summary>Gives a runner the credential it presents to the Secrets service.</summary>
    public IResourceBuilder<ProjectResource> ApplyToRunner(IResourceBuilder<ProjectResource> runner) =>
        runner.WithEnvironment("GpuRunner__RunnerKey", Parameter(runner.ApplicationBuilder, RunnerKeySetting, _settings[RunnerKeySetting]));

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
        keys.ApplyToRunner(runner);
}
