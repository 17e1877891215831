using System.Diagnostics;

namespace Modal.AppHost.Infrastructure;

/// <summary>
/// The backing servers' passwords and keys of this install: <c>{data}/infra-credentials.env</c>, beside
/// <c>install-keys.env</c>, owner-readable only, never in the repository. <c>scripts/infra/credentials.sh</c> makes
/// it (and adds what an older install lacks) so that the AppHost and <c>scripts/infra.sh</c> share one list; the
/// servers' runners read it themselves (<c>--credentials</c>), so no secret is on a command line. Each service gets
/// only its own user's password, as a secret parameter (masked in the dashboard).
/// </summary>
internal sealed class InfrastructureCredentials
{
    private readonly Dictionary<string, string> _values;

    private InfrastructureCredentials(string path, Dictionary<string, string> values)
    {
        FilePath = path;
        _values = values;
    }

    public string FilePath { get; }

    public static InfrastructureCredentials LoadOrCreate(string repositoryRoot, string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, "infra-credentials.env");
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(repositoryRoot, "scripts", "infra", "credentials.sh"));
        start.ArgumentList.Add(path);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start bash.");
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/infra/credentials.sh {path} failed ({process.ExitCode}): {error}");
        }
        var values = File.ReadAllLines(path)
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .ToDictionary(pair => pair[0].Trim(), pair => pair[1].Trim(), StringComparer.Ordinal);
        return new InfrastructureCredentials(path, values);
    }

    /// <summary>A credential's value, for the AppHost's own health checks.</summary>
    public string Value(string name) =>
        _values.TryGetValue(name, out var value)
            ? value
            : throw new InvalidOperationException($"'{FilePath}' lacks {name}: is scripts/infra/credentials.sh older than the AppHost?");

    /// <summary>
    /// The password of <paramref name="user"/> on <paramref name="server"/> (<c>MODAL_{SERVER}_{USER}_{kind}</c>) as a secret
    /// parameter; throws naming the server when that service has no user there.
    /// </summary>
    public IResourceBuilder<ParameterResource> Parameter(IDistributedApplicationBuilder builder, string server, string user, string kind = "PASSWORD")
    {
        var setting = $"MODAL_{server}_{user.Replace('-', '_')}_{kind}".ToUpperInvariant();
        if (!_values.ContainsKey(setting))
        {
            throw new InvalidOperationException($"'{user}' has no user on {server.ToLowerInvariant()} (no {setting} in '{FilePath}').");
        }
        var name = setting["MODAL_".Length..].Replace('_', '-').ToLowerInvariant();
        var existing = builder.Resources.OfType<ParameterResource>().SingleOrDefault(p => p.Name == name);
        return existing is not null
            ? builder.CreateResourceBuilder(existing)
            : builder.AddParameter(name, _values[setting], secret: true);
    }
}
