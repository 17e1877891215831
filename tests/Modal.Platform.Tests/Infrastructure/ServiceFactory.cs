using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// Runs one platform service in-process against the real infrastructure (connection strings come from the
/// <see cref="InfrastructureFixture"/>); <paramref name="settings"/> overrides the service's own configuration.
/// </summary>
public sealed class ServiceFactory<TEntryPoint>(params (string Key, string Value)[] settings) : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    /// <summary>The service with its default configuration (xunit creates class fixtures through this).</summary>
    public ServiceFactory() : this([])
    {
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
    }
}
