using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.Hosting;

/// <summary>Fail-fast reads of required settings, with a message that names the setting to fix.</summary>
public static class ConfigurationExtensions
{
    /// <summary>
    /// Returns <c>ConnectionStrings:{name}</c>, or throws naming the setting (and its environment-variable form)
    /// when it is missing, so a service never starts half-configured.
    /// </summary>
    public static string GetRequiredConnectionString(this IConfiguration configuration, string name)
    {
        var value = configuration.GetConnectionString(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                $"Missing connection string 'ConnectionStrings:{name}'. Set it in configuration or as the environment " +
                $"variable 'ConnectionStrings__{name}' (the AppHost sets it when the service runs under Aspire).");
        }
        return value;
    }
}
