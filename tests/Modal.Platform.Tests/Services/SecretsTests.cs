using System.Net.Http.Json;
using Modal.Platform.Tests.Infrastructure;
using Modal.Secrets;
using Modal.Secrets.Endpoints;
using Npgsql;

namespace Modal.Platform.Tests.Services;

[Collection(InfrastructureTestGroup.Name)]
public sealed class SecretsTests(InfrastructureFixture infrastructure)
{
    [Fact]
    public async Task Start_FreshDatabase_AppliesMigrationsAndServesSecretList()
    {
        await using var secrets = new ServiceFactory<SecretsOptions>();
        var client = secrets.CreateClient();

        var list = await client.GetFromJsonAsync<List<SecretSummary>>(
            new Uri($"/v1/workspaces/{Guid.NewGuid()}/secrets", UriKind.Relative));

        Assert.NotNull(list);
        Assert.Empty(list);
        await using var connection = new NpgsqlConnection(infrastructure.DatabaseConnectionString("modal_secrets"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT count(*) FROM "__EFMigrationsHistory" WHERE "MigrationId" LIKE '%InitialCreate'""", connection);
        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }
}
