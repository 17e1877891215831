using System.Net;
using System.Net.Http.Json;
using Modal.Api;
using Modal.Api.Endpoints;
using Modal.Platform.Tests.Infrastructure;

namespace Modal.Platform.Tests.Services;

[Collection(InfrastructureTestGroup.Name)]
public sealed class ApiTests
{
    [Fact]
    public async Task Health_AllStoresRunning_ReportsPostgresRedisAndBusHealthy()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = api.CreateClient();

        var health = await Eventually.ReturnsAsync(() => HealthReport.ReadAsync(client),
            report => report.Status == "Healthy", "the Api reports healthy");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", health.CheckStatus("ApiDbContext"));
        Assert.Equal("Healthy", health.CheckStatus("Redis"));
        Assert.Equal("Healthy", health.CheckStatus("masstransit"));
    }

    [Fact]
    public async Task ListWorkspaces_MigratedDatabase_ContainsDefaultWorkspace()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = api.CreateClient();

        var workspaces = await client.GetFromJsonAsync<List<WorkspaceResponse>>(new Uri("/v1/workspaces", UriKind.Relative));

        var main = Assert.Single(workspaces!, w => w.Name == "main");
        Assert.NotEqual(Guid.Empty, main.Id);
    }

    [Fact]
    public async Task GetWorkspace_UnknownName_ReturnsProblemDetails404()
    {
        await using var api = new ServiceFactory<ApiOptions>();
        var client = api.CreateClient();

        using var response = await client.GetAsync(new Uri("/v1/workspaces/no-such-workspace", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-such-workspace", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_TwiceOnSameDatabase_KeepsOneDefaultWorkspace()
    {
        await using var first = new ServiceFactory<ApiOptions>();
        await using var second = new ServiceFactory<ApiOptions>();
        _ = first.CreateClient();
        var client = second.CreateClient();

        var workspaces = await client.GetFromJsonAsync<List<WorkspaceResponse>>(new Uri("/v1/workspaces", UriKind.Relative));

        Assert.Single(workspaces!, w => w.Name == "main");
    }
}
