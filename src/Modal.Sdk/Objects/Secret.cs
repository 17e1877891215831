using System.Security.Cryptography;
using System.Text;
using Modal.Api.Contracts.Secrets;
using Modal.Rest;

namespace Modal;

/// <summary>
/// A set of environment variables for a function's containers, as Modal's <c>modal.Secret</c>. Values are stored
/// encrypted by the platform and reach only the containers of functions that list the secret in
/// <see cref="FunctionOptions.Secrets"/>; no API returns them.
/// <list type="bullet">
/// <item><see cref="FromName"/>: a named secret of the workspace (<c>modal secret create</c>, <see cref="CreateAsync"/>).</item>
/// <item><see cref="FromDictionary"/>, <see cref="FromDotEnv"/>, <see cref="FromLocalEnvironment"/>: values defined by the
/// program on the deploying machine; a deploy stores them as a secret named after the app and function (see
/// <see cref="LocalSecretName"/>), so they never travel in the app manifest.</item>
/// </list>
/// </summary>
/// <example>
/// <code>
/// var ask = app.Function("ask", (string question) => Llm.Ask(Environment.GetEnvironmentVariable("OPENAI_API_KEY")!, question),
///     new FunctionOptions { Secrets = [Secret.FromName("openai", requiredKeys: ["OPENAI_API_KEY"])] });
/// </code>
/// </example>
public sealed class Secret
{
    /// <summary>Set by <c>modal deploy</c>/<c>modal run</c> to the directory they were started in, which relative <see cref="FromDotEnv"/> paths are resolved against.</summary>
    public const string InvocationDirectoryVariable = "MODAL_INVOCATION_DIRECTORY";

    private readonly Func<IReadOnlyDictionary<string, string>>? _localValues;

    private Secret(string? name, IReadOnlyList<string> requiredKeys, Func<IReadOnlyDictionary<string, string>>? localValues, string description)
    {
        Name = name;
        RequiredKeys = requiredKeys;
        _localValues = localValues;
        Description = description;
    }

    /// <summary>The named secret's name; null for a secret defined by the program (its name is given at deploy).</summary>
    public string? Name { get; }

    /// <summary>Keys the named secret must have: a deploy fails naming the first one missing, before any container starts.</summary>
    public IReadOnlyList<string> RequiredKeys { get; }

    /// <summary>True for a secret whose values the program defines (<see cref="FromDictionary"/>, <see cref="FromDotEnv"/>, <see cref="FromLocalEnvironment"/>).</summary>
    public bool IsLocal => _localValues is not null;

    private string Description { get; }

    /// <summary>
    /// The workspace's secret <paramref name="name"/>. Nothing is fetched here; a deploy checks that it exists with
    /// every key of <paramref name="requiredKeys"/> and fails with a message naming what is missing.
    /// </summary>
    /// <param name="name">1-64 letters, digits, '-', '_' or '.'.</param>
    /// <param name="requiredKeys">Keys the function cannot run without.</param>
    public static Secret FromName(string name, IEnumerable<string>? requiredKeys = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Secret(name, [.. requiredKeys ?? []], null, $"Secret '{name}'");
    }

    /// <summary>A secret of these values (entries whose value is null are left out, as Modal's <c>from_dict</c>).</summary>
    /// <param name="values">Environment variable → value; copied now.</param>
    public static Secret FromDictionary(IReadOnlyDictionary<string, string?> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var copy = values.Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value!, StringComparer.Ordinal);
        return new Secret(null, [], () => copy, "Secret.FromDictionary");
    }

    /// <summary>
    /// A secret of the variables of a <c>.env</c> file (<c>KEY=VALUE</c> lines; <c>#</c> comments, <c>export</c> and
    /// quotes allowed), read when the app is deployed, on the deploying machine. A relative path is resolved against the
    /// directory <c>modal deploy</c>/<c>modal run</c> was started in.
    /// </summary>
    /// <param name="path">The file (default <c>.env</c>).</param>
    public static Secret FromDotEnv(string path = ".env")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new Secret(null, [], () => DotEnv.Parse(File.ReadAllLines(Resolve(path))), $"Secret.FromDotEnv(\"{path}\")");

        static string Resolve(string path) =>
            Path.IsPathRooted(path) || Environment.GetEnvironmentVariable(InvocationDirectoryVariable) is not { Length: > 0 } directory
                ? Path.GetFullPath(path)
                : Path.GetFullPath(path, directory);
    }

    /// <summary>
    /// A secret of these variables of the deploying machine's environment, read when the app is deployed; a variable
    /// that is not set fails the deploy naming it.
    /// </summary>
    /// <param name="keys">The variables.</param>
    public static Secret FromLocalEnvironment(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var names = keys.ToList();
        return new Secret(null, [], () => names.ToDictionary(
            key => key,
            key => Environment.GetEnvironmentVariable(key)
                ?? throw new InvalidOperationException($"Secret.FromLocalEnvironment: the environment variable '{key}' is not set."),
            StringComparer.Ordinal), "Secret.FromLocalEnvironment");
    }

    /// <summary>Creates the secret <paramref name="name"/> (Modal's <c>Secret.objects.create</c>).</summary>
    /// <param name="client">The connection.</param>
    /// <param name="name">1-64 letters, digits, '-', '_' or '.'.</param>
    /// <param name="values">Environment variable → value (at least one).</param>
    /// <param name="allowExisting">When the secret exists, leave it as it is instead of throwing.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="AlreadyExistsException">It exists and <paramref name="allowExisting"/> is false.</exception>
    /// <exception cref="ArgumentException">An invalid name, key or value (the message names the key, never a value).</exception>
    public static Task<SecretInfo> CreateAsync(
        ModalClient client, string name, IReadOnlyDictionary<string, string> values, bool allowExisting = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Secrets.CreateAsync(new CreateSecretRequest(name, values, allowExisting), cancellationToken));
    }

    /// <summary>Merges <paramref name="values"/> into the secret (as Python's <c>dict.update</c>); other keys are kept.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="name">The secret's name.</param>
    /// <param name="values">Keys to set.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">There is no such secret.</exception>
    public static Task<SecretInfo> UpdateAsync(
        ModalClient client, string name, IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Secrets.UpdateAsync(name, new SecretValuesRequest(values), cancellationToken));
    }

    /// <summary>The secret's name and key names (Modal's <c>info()</c>); values are never returned.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="name">The secret's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">There is no such secret.</exception>
    public static Task<SecretInfo> InfoAsync(ModalClient client, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Secrets.GetAsync(name, cancellationToken));
    }

    /// <summary>The workspace's secrets with their key names.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public static Task<IReadOnlyList<SecretInfo>> ListAsync(ModalClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Secrets.ListAsync(cancellationToken));
    }

    /// <summary>Deletes the secret; functions that use it fail to start until it is created again.</summary>
    /// <param name="client">The connection.</param>
    /// <param name="name">The secret's name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="NotFoundException">There is no such secret.</exception>
    public static Task DeleteAsync(ModalClient client, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return StorageCalls.RunAsync(() => client.Secrets.DeleteAsync(name, cancellationToken));
    }

    /// <summary>
    /// The name a deploy gives the <paramref name="index"/>-th secret of a function (or class) when the program defines its
    /// values: <c>{app}.{function}.{index}</c>, or a hash of that when longer than 64 characters.
    /// </summary>
    /// <param name="app">The app's name.</param>
    /// <param name="owner">The function's name, or the class's for a class's methods (which share containers).</param>
    /// <param name="index">Position in <see cref="FunctionOptions.Secrets"/>.</param>
    public static string LocalSecretName(string app, string owner, int index)
    {
        var name = $"{app}.{owner}.{index}";
        return name.Length <= 64 ? name : $"local-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..32]}";
    }

    /// <summary>Reads a local secret's values (on the deploying machine, at deploy).</summary>
    internal IReadOnlyDictionary<string, string> ReadLocalValues() =>
        _localValues?.Invoke() ?? throw new InvalidOperationException($"{Description} is a named secret; the platform holds its values.");

    /// <inheritdoc/>
    public override string ToString() => Description;
}

/// <summary>Parses <c>.env</c> files as Modal's <c>from_dotenv</c> (python-dotenv) reads the common cases.</summary>
internal static class DotEnv
{
    public static Dictionary<string, string> Parse(IEnumerable<string> lines)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }
            var key = line[..equals].Trim();
            var value = line[(equals + 1)..].Trim();
            if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            {
                value = value[1..^1].Replace("\\n", "\n", StringComparison.Ordinal).Replace("\\\"", "\"", StringComparison.Ordinal);
            }
            else if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
            {
                value = value[1..^1];
            }
            else if (value.IndexOf(" #", StringComparison.Ordinal) is var comment and >= 0)
            {
                value = value[..comment].TrimEnd();
            }
            values[key] = value;
        }
        return values;
    }
}
